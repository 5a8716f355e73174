package dev.bolero.agent.machine;

import dev.bolero.core.Digest;
import dev.bolero.oci.ImageReference;
import dev.bolero.oci.ImageStore;
import dev.bolero.oci.OciException;
import dev.bolero.oci.PullEvent;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The image of a run: pulled and unpacked once per digest, its root drive shared by the machines that use it. Each
 * pull's duration goes to its {@link PullMeter}. A run that resumes a snapshot takes the image by the digest the
 * machine last ran, from the node's store when it is there: the registry is not asked whether the tag moved (a tag
 * that moved is picked up by the next cold boot), and a registry that is slow or down does not hold the resume up.
 */
final class ImageHook implements MachineHook {
    /** Where a pull's image came from. */
    enum Source {
        /** At least one layer was downloaded. */
        REGISTRY,
        /** Nothing was downloaded: the drive or every layer was on the node already. */
        CACHE;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Told of every pull when it ends; must be quick and must not throw. */
    @FunctionalInterface
    interface PullMeter {
        /** Measures nothing. */
        PullMeter NONE = (took, source, succeeded) -> { };

        void pulled(Duration took, Source source, boolean succeeded);
    }

    private final ImageStore images;
    private final PullMeter meter;

    ImageHook(ImageStore images, PullMeter meter) {
        this.images = images;
        this.meter = meter;
    }

    @Override
    public void prepare(Launch launch) throws OciException {
        var downloaded = new AtomicBoolean();
        long started = System.nanoTime();
        boolean succeeded = false;
        try {
            launch.image(images.prepare(reference(launch), event -> {
                if (event instanceof PullEvent.LayerProgress p && !p.cached()) downloaded.set(true);
            }));
            succeeded = true;
        } finally {
            meter.pulled(Duration.ofNanos(System.nanoTime() - started),
                    downloaded.get() ? Source.REGISTRY : Source.CACHE, succeeded);
        }
    }

    private static String reference(Launch launch) {
        String image = launch.machine().config().image().value();
        Optional<String> ran = launch.machine().imageDigest();
        if (!launch.resumes() || ran.isEmpty()) return image;
        return ImageReference.parse(image).withDigest(Digest.parse(ran.get())).toString();
    }
}
