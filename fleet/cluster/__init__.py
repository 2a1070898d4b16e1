"""A real single-node Kubernetes on this machine: `make k8s-up`, `make k8s-down`.

Every component runs as a host process started here (no kubeadm, no static pods): etcd,
the API server, controller-manager and scheduler, containerd, the kubelet and kube-proxy.
CoreDNS and the storage class are cluster objects applied once the node is Ready.
Nothing listens beyond this machine: the node's address lives on the loopback device,
and pods have no route out (fleet/cluster/netfilter.py).
"""
