package dev.bolero.agent.machine;

import dev.bolero.oci.ImageStore;
import dev.bolero.oci.OciException;

/**
 * The image of a run: pulled and unpacked once per digest, its root drive shared by the machines that use it.
 */
final class ImageHook implements MachineHook {
    private final ImageStore images;

    ImageHook(ImageStore images) {
        this.images = images;
    }

    @Override
    public void prepare(Launch launch) throws OciException {
        launch.image(images.prepare(launch.machine().config().image().value()));
    }
}
