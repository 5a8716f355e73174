package dev.bolero.runtime.internal.vmm;

import java.util.Objects;
import java.util.Optional;

/**
 * One call to a VMM's REST API.
 *
 * @param method the HTTP method, upper case
 * @param path the path as the VMM's spec names it, with parameters filled in ({@code /drives/rootfs})
 * @param body the JSON body's typed record, serialized with {@link VmmApi#JSON}; empty for body-less calls
 */
public record ApiRequest(String method, String path, Optional<Object> body) {
    public ApiRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(body, "body");
        if (!path.startsWith("/")) throw new IllegalArgumentException("path must start with /, got " + path);
    }

    /** A PUT with a JSON body. */
    public static ApiRequest put(String path, Object body) {
        return new ApiRequest("PUT", path, Optional.of(body));
    }

    /** A PUT without a body. */
    public static ApiRequest put(String path) {
        return new ApiRequest("PUT", path, Optional.empty());
    }

    /** {@code PUT /boot-source}, for error messages. */
    public String describe() {
        return method + " " + path;
    }
}
