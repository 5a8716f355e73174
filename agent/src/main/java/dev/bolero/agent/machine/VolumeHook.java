package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import dev.bolero.core.MachineSpec;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmDriver;
import dev.bolero.runtime.VmmException;
import dev.bolero.runtime.guest.GuestConfig;

/**
 * The volumes of a run ({@code config.mounts}): each volume's file on this node becomes a drive of the VM, carrying the
 * volume's id as its serial, and the guest mounts the device of the serial it will read for that drive (the driver's
 * {@link VmmDriver#guestSerial}: the id itself, or one Firecracker makes up) at the mount's path.
 */
final class VolumeHook implements MachineHook {
    private final NodeVolumes volumes;
    private final VmmDriver driver;

    VolumeHook(NodeVolumes volumes, VmmDriver driver) {
        this.volumes = volumes;
        this.driver = driver;
    }

    /**
     * @throws ApiException {@code failed_precondition} when a volume does not live on this node, or the serial the guest
     *     will read for it cannot be known
     */
    @Override
    public void prepare(Launch launch) {
        MachineRecord machine = launch.machine();
        for (MachineSpec.Mount mount : machine.config().mounts()) {
            VmSpec.Drive drive = volumes.drive(machine.namespace(), mount.volume());
            try {
                launch.volume(drive, new GuestConfig.Mount(driver.guestSerial(drive), mount.path()));
            } catch (VmmException e) {
                throw ApiException.failedPrecondition("attach volume " + machine.namespace() + "/" + mount.volume() + ": "
                        + e.getMessage());
            }
        }
    }
}
