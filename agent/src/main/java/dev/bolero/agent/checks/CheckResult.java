package dev.bolero.agent.checks;

/**
 * What one run of a health check found.
 *
 * @param passing whether the run passed
 * @param output what it saw, for the machine's check status and its events
 */
public record CheckResult(boolean passing, String output) {
    static CheckResult pass(String output) {
        return new CheckResult(true, output);
    }

    static CheckResult fail(String output) {
        return new CheckResult(false, output);
    }
}
