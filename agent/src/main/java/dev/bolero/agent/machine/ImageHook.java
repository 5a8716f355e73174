package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import dev.bolero.core.MachineSpec;
import dev.bolero.oci.ImageStore;
import dev.bolero.oci.OciException;
import dev.bolero.oci.PreparedImage;

/**
 * The image of a run: pulls and unpacks it (once per digest, shared by the machines that use it), merges its config
 * with the machine's {@code init} and {@code env}, and sizes the machine's root drive.
 */
final class ImageHook implements MachineHook {
    private static final long MIB = 1024L * 1024;

    private final ImageStore images;

    ImageHook(ImageStore images) {
        this.images = images;
    }

    @Override
    public void prepare(Launch launch) throws OciException {
        MachineSpec config = launch.machine().config();
        String ref = config.image().value();
        PreparedImage image = images.prepare(ref);
        WorkloadSpec workload = WorkloadSpec.merge(ref, image.config(), config.init(), config.env());
        launch.image(image, workload, rootDriveBytes(launch.machine(), image));
    }

    /**
     * The machine's root drive size: 0 for the image's own, else guest.rootfs_mb.
     *
     * @throws ApiException {@code failed_precondition} when guest.rootfs_mb is smaller than the image's drive
     */
    private static long rootDriveBytes(MachineRecord machine, PreparedImage image) {
        Integer mb = machine.config().guest().rootfsMb();
        if (mb == null) return 0;
        long bytes = mb * MIB;
        if (bytes < image.rootDriveBytes()) {
            throw ApiException.failedPrecondition("start machine " + machine.id() + ": guest.rootfs_mb " + mb
                    + " is smaller than the root drive of " + machine.config().image() + " ("
                    + (image.rootDriveBytes() + MIB - 1) / MIB + " MiB)");
        }
        return bytes;
    }
}
