/**
 * Parts shared by the drivers whose VMM is a separate process configured over a REST API on a Unix socket
 * (Firecracker, Cloud Hypervisor): spawning in an own session, process identity by pid and start time, the API
 * client, the hybrid-vsock control channel, kernel and root-drive checks. Not for use outside {@code
 * dev.bolero.runtime}.
 */
package dev.bolero.runtime.internal.vmm;
