// Package clusterobjects builds and applies the API objects that "kubeadm init" creates once the
// control plane is up, with kubeadm v1.36's names and contents, so that stock kubeadm and kubectl
// tooling (kubeadm token list, kubeadm join, kubeadm upgrade) work against a kiln cluster:
//
//   - ClusterRoleBinding kubeadm:cluster-admins (admin.conf's group → cluster-admin);
//   - the kubeadm-config and kubelet-config ConfigMaps with the Roles that let nodes read them;
//   - the bootstrap token Secrets and the RBAC that lets a token post, and get auto-approved,
//     a node client CSR;
//   - kube-public/cluster-info, readable anonymously, which the bootstrap signer signs;
//   - the CoreDNS and kube-proxy addons.
//
// The objects are plain data: Steps and Objects build them without a client, so one golden test
// covers them all. Apply creates or updates each in order with typed clients; an object that
// already holds what kiln wants is not written, so a rerun (after a power loss, say) changes
// nothing. MarkControlPlane labels and taints the control-plane Node as kubeadm does.
package clusterobjects
