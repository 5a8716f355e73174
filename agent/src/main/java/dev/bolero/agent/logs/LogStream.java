package dev.bolero.agent.logs;

/** Where a workload line came from. */
public enum LogStream {
    STDOUT('o'),
    STDERR('e');

    private final char tag;

    LogStream(char tag) {
        this.tag = tag;
    }

    char tag() {
        return tag;
    }
}
