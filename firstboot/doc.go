// Package firstboot turns a freshly booted kiln node into a control plane or a worker, the way
// "kubeadm init" and "kubeadm join" would, without anyone logging in.
//
// Phases returns the first boot as one ordered table, kubeadm's phases for init and join, each
// with a one-line description: "kiln-agent firstboot --help" and the README's phase table are
// generated from it, so the table is the one description there is.
//
// Every phase first checks for valid results of an earlier run, so a first boot cut short by a
// power loss continues where it stopped. Progress goes to /run/kiln/status.json, to the journal
// with fields, and as one line per phase to the console. The bootstrap token never appears in
// any of them.
package firstboot
