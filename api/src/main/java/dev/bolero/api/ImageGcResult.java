package dev.bolero.api;

import java.util.List;

/**
 * What {@code POST /api/v1/images/gc} removed.
 *
 * @param images digests of the images removed ({@code ?unused=true} only: images no machine uses)
 * @param blobs blobs no remaining image refers to
 * @param bytes bytes those blobs took
 * @param temporaries leftovers of interrupted pulls and builds
 */
public record ImageGcResult(List<String> images, int blobs, long bytes, int temporaries) {
    public ImageGcResult {
        images = List.copyOf(images);
    }
}
