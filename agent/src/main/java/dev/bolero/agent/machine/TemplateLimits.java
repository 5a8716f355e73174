package dev.bolero.agent.machine;

/**
 * How much a node keeps of templates: at most {@code maxTemplates} of them and {@code maxBytes} of their files
 * together; beyond either, the least recently used go.
 *
 * @param maxTemplates 0 (no templates are taken) to 10,000
 * @param maxBytes at least 0
 */
public record TemplateLimits(int maxTemplates, long maxBytes) {
    /** 16 templates, 4 GiB. */
    public static final TemplateLimits DEFAULT = new TemplateLimits(16, 4L << 30);

    public TemplateLimits {
        if (maxTemplates < 0 || maxTemplates > 10_000) {
            throw new IllegalArgumentException("template count limit must be 0-10000, got " + maxTemplates);
        }
        if (maxBytes < 0) throw new IllegalArgumentException("template byte limit must be at least 0, got " + maxBytes);
    }
}
