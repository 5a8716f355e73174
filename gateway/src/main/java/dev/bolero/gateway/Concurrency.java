package dev.bolero.gateway;

import dev.bolero.core.ValidationException;

/**
 * A fleet's per-machine concurrency limits ({@code http_service.concurrency}). Above the soft limit a machine is
 * still used but the fleet counts as saturated (a reason to start another machine); at the hard limit it receives
 * nothing more until a request finishes.
 */
public record Concurrency(int softLimit, int hardLimit) {
    /** Fly's defaults. */
    public static final Concurrency DEFAULT = new Concurrency(20, 25);

    /** @throws ValidationException unless {@code 1 <= softLimit <= hardLimit} */
    public Concurrency {
        if (softLimit < 1 || hardLimit < softLimit) {
            throw new ValidationException(
                    "concurrency: soft_limit " + softLimit + " and hard_limit " + hardLimit + " must satisfy 1 <= soft <= hard");
        }
    }
}
