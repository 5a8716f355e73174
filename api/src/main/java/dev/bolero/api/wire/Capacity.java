package dev.bolero.api.wire;

import dev.bolero.api.ApiException;

/** An amount of compute on the wire: {@code {"cpus": 8, "memory_mb": 16384}}. */
public record Capacity(int cpus, long memoryMb) {
    public Capacity {
        if (cpus < 0 || memoryMb < 0) {
            throw ApiException.invalid("capacity must not be negative, got " + cpus + " cpus and " + memoryMb + " MiB");
        }
    }
}
