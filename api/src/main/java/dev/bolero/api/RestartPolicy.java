package dev.bolero.api;

/**
 * When the agent restarts a machine whose workload ended on its own (not stopped by request, not deleted).
 *
 * @param policy {@code no} (default), {@code on-failure} (a non-zero exit code or a failed run) or {@code always}
 * @param maxRetries automatic restarts allowed in a row, 0 to 1000; absent: unlimited. A start by request resets
 *     the count.
 * @throws ApiException ({@code invalid_argument}) naming the bad value
 */
public record RestartPolicy(String policy, Integer maxRetries) {
    public RestartPolicy {
        if (policy == null) policy = "no";
        if (!policy.equals("no") && !policy.equals("on-failure") && !policy.equals("always")) {
            throw ApiException.invalid("restart.policy must be no, on-failure or always, got '" + policy + "'");
        }
        if (maxRetries != null && (maxRetries < 0 || maxRetries > 1000)) {
            throw ApiException.invalid("restart.max_retries must be between 0 and 1000, got " + maxRetries);
        }
    }

    /** No restarts. */
    public static RestartPolicy none() {
        return new RestartPolicy("no", null);
    }

    /**
     * Whether a run that ended this way is restarted after {@code restartsSoFar} automatic restarts.
     *
     * @param failed whether the run failed or the workload exited with a non-zero code
     */
    public boolean restarts(boolean failed, int restartsSoFar) {
        boolean wanted = switch (policy) {
            case "always" -> true;
            case "on-failure" -> failed;
            default -> false;
        };
        return wanted && (maxRetries == null || restartsSoFar < maxRetries);
    }
}
