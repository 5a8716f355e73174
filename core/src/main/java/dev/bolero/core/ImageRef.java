package dev.bolero.core;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * An image reference as a client wrote it ({@code 127.0.0.1:5000/app:1}, {@code busybox}, {@code app@sha256:…}). Its
 * syntax beyond this (registry, repository, tag, digest) is checked where it is resolved, by the node's image store.
 *
 * @param value 1 to 512 characters, no whitespace or control characters
 * @throws ValidationException otherwise
 */
public record ImageRef(@JsonValue String value) {
    public ImageRef {
        if (value == null || value.isEmpty()) throw new ValidationException("image reference must not be empty");
        if (value.length() > 512) throw new ValidationException("image reference is longer than 512 characters");
        if (value.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            throw new ValidationException("image reference '" + value.strip()
                    + "' must not contain whitespace or control characters");
        }
    }

    @JsonCreator
    public static ImageRef of(String value) {
        return new ImageRef(value);
    }

    @Override
    public String toString() {
        return value;
    }
}
