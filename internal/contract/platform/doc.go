// Package platform is the table of Ignition platforms (ignition.platform.id) kiln knows: for
// each, where its Ignition provider reads the config from and so whether kiln-init must bring
// up the network before Ignition runs. kiln-init's two decisions, whether to bring up the
// network and which config source to expect, both read this one table. Standard library only.
package platform
