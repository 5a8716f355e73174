/**
 * Parts shared by the drivers (QEMU, Firecracker, Cloud Hypervisor): spawning in an own session, process identity by
 * pid and start time, the VMM process with its stop escalation, per-machine jails (uid claims, cgroups, the
 * {@code bolero-jailer} command), and for the REST-API VMMs the API client, the hybrid-vsock control channel,
 * kernel and root-drive checks. Not for use outside {@code
 * dev.bolero.runtime}.
 */
package dev.bolero.runtime.internal.vmm;
