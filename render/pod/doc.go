// Package pod builds the pod specs every renderer shares: containers with
// GPU limits and node placement, /dev/shm, datasets and their credentials,
// and the security context of the Pod Security Standards "restricted"
// profile. Keeping it in one place means a training job, a pipeline step
// and a notebook get GPUs and security exactly the same way.
package pod
