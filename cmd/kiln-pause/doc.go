// Command kiln-pause is the /pause of kiln's registry.k8s.io/pause image: the process that holds
// a pod sandbox's namespaces. As PID 1 of the pod it blocks forever, reaps the zombies orphaned
// into it, and exits 0 on SIGINT or SIGTERM. "-v" prints its version, which the build sets with
// -ldflags "-X main.version=…". Build it with CGO_ENABLED=0: the image holds nothing else.
package main
