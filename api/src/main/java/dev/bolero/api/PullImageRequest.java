package dev.bolero.api;

/**
 * {@code POST /api/v1/images/pull}.
 *
 * @param image a reference: {@code busybox}, {@code host:5000/team/app:1}, {@code app@sha256:…}
 */
public record PullImageRequest(String image) {
    public PullImageRequest {
        if (image == null || image.isBlank()) throw ApiException.invalid("pull image: image is required");
    }
}
