package dev.bolero.oci;

import java.util.Objects;

/**
 * A user name and password (or token) for one registry, used for HTTP basic authentication and to obtain bearer
 * tokens. {@link #toString()} does not reveal the password.
 */
public record Credentials(String username, String password) {
    public Credentials {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
        if (username.isEmpty() || username.contains(":")) {
            throw new IllegalArgumentException("username '" + username + "' must be non-empty and contain no ':'");
        }
    }

    @Override
    public String toString() {
        return "Credentials[username=" + username + ", password=***]";
    }
}
