package dev.bolero.core;

import java.util.Collection;

/**
 * Where a value sits in a document ({@code config.services[1].internal_port}), and the checks that state a rule about
 * it once: each failure is a {@link ValidationException} whose message starts with the path.
 *
 * @param path dotted field names with {@code [i]} indexes; empty at a document's root
 */
public record FieldPath(String path) {
    /** Where a machine's spec sits in every body and object of both APIs. */
    public static final FieldPath CONFIG = new FieldPath("config");

    public FieldPath {
        if (path == null) throw new IllegalArgumentException("field path: null");
    }

    /** The root of a document: messages start with the field's own name. */
    public static FieldPath root() {
        return new FieldPath("");
    }

    /** The field {@code name} of the object at this path. */
    public FieldPath field(String name) {
        return new FieldPath(path.isEmpty() ? name : path + "." + name);
    }

    /** The element {@code i} (from 0) of the array at this path. */
    public FieldPath index(int i) {
        return new FieldPath(path + "[" + i + "]");
    }

    /** A failure of the rule {@code rule} ({@code must be …}) at this path. */
    public ValidationException invalid(String rule) {
        return new ValidationException(path.isEmpty() ? rule : path + " " + rule);
    }

    /** {@code value}, which must be present. */
    public <T> T required(T value) {
        if (value == null) throw invalid("is required");
        return value;
    }

    /** {@code value} unless it is below {@code min} or above {@code max}; null (absent) passes. */
    public Integer between(Integer value, int min, int max) {
        if (value != null && (value < min || value > max)) {
            throw invalid("must be between " + min + " and " + max + ", got " + value);
        }
        return value;
    }

    /** {@code value} unless it is one of {@code allowed}'s; null (absent) passes. */
    public String oneOf(String value, Collection<String> allowed) {
        if (value != null && !allowed.contains(value)) {
            throw invalid("must be " + String.join(", ", allowed) + ", got '" + value + "'");
        }
        return value;
    }

    @Override
    public String toString() {
        return path;
    }
}
