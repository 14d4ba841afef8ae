// Package hostcontrolplane runs a kiln control plane as plain host processes on loopback, for
// integration tests and benchmarks, by running the first-boot agent's own phases
// (firstboot.Phases) against a directory standing in for the node's "/".
//
// Start does what an operator and the first control plane's first boot do: "kiln cluster
// init" (a cluster directory with CAs, admin.conf, tokens and the CA pin), the files "kiln
// ignition" delivers to the node, written where Ignition writes them, then firstboot.Run with
// the phases a host process cannot run skipped (HostSkippedPhases). The agent's service
// manager is a fake (package fakesystemd) whose kubelet.service is a stand-in for kubelet: it
// runs each static pod the init/manifests phase wrote as a host process, from the manifest's
// own command line with only host paths and ports remapped, restarts a process that exits as
// kubelet restarts a container, and answers kubelet's health endpoint. The agent's waits,
// certificates, kubeconfigs, manifests and cluster objects are therefore the very code a node
// runs. RunPhases runs named phases again (a rerun after an interruption); Stop ends every
// process Start started, by PID.
//
// It needs the pinned Kubernetes binaries: BinDirFromEnv reads their directory from
// KILN_K8S_BIN ("make k8s" builds them). Progress goes to Options.Logf, the agent's console
// lines among it; the agent's structured log goes to LogDir/agent.log. No line carries a
// bootstrap token's secret.
package hostcontrolplane
