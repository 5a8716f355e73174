package dev.bolero.agent.machine;

import dev.bolero.core.MachineSpec;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.guest.GuestConfig;

/**
 * The volumes of a run ({@code config.mounts}): each volume's file on this node becomes a drive of the VM, carrying the
 * volume's id as its serial, and the guest mounts the device of that serial at the mount's path.
 */
final class VolumeHook implements MachineHook {
    private final NodeVolumes volumes;

    VolumeHook(NodeVolumes volumes) {
        this.volumes = volumes;
    }

    /** @throws dev.bolero.api.ApiException {@code failed_precondition} when a volume does not live on this node */
    @Override
    public void prepare(Launch launch) {
        MachineRecord machine = launch.machine();
        for (MachineSpec.Mount mount : machine.config().mounts()) {
            VmSpec.Drive drive = volumes.drive(machine.namespace(), mount.volume());
            launch.volume(drive, new GuestConfig.Mount(drive.serial(), mount.path()));
        }
    }
}
