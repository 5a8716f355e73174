package dev.bolero.api;

/**
 * {@code POST …/machines/{id}/fork}: make {@code count} new running machines from a live snapshot of a running one.
 *
 * @param count how many clones, 1 to {@value #MAX_COUNT}
 */
public record ForkMachineRequest(Integer count) {
    /** The most clones one fork makes. */
    public static final int MAX_COUNT = 16;

    public ForkMachineRequest {
        if (count == null) throw ApiException.invalid("fork machine: count is required");
        if (count < 1 || count > MAX_COUNT) {
            throw ApiException.invalid("fork machine: count " + count + " is not 1 to " + MAX_COUNT);
        }
    }
}
