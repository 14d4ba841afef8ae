// Package fakesys writes fake sysfs trees for tests of kiln-init's packages: block devices laid
// out the way the kernel shows them under /sys/class/block.
package fakesys
