package dev.bolero.runtime.guest;

import java.util.Objects;

/**
 * A secret's value as the guest gives it to the workload: a {@link Variable} of its environment or a {@link File} on
 * a tmpfs. The value is never part of {@link #toString()}, nor of any exception message here.
 */
public sealed interface GuestSecret {

    /** The secret's value: text without NUL. */
    String value();

    /** What the workload sees: {@code env NAME} or {@code file PATH}. */
    String target();

    /**
     * A variable of the workload's environment, replacing one of the same name from the image or the config.
     *
     * @param name a variable name, non-empty, without {@code =} or NUL
     */
    record Variable(String name, String value) implements GuestSecret {
        public Variable {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
            if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("secret variable name is not valid: " + name);
            }
            checkValue(value, "env " + name);
        }

        @Override
        public String target() {
            return "env " + name;
        }

        @Override
        public String toString() {
            return "Variable[name=" + name + ", value=(hidden)]";
        }
    }

    /**
     * A file of mode 0400 owned by the workload's user, on a tmpfs (init mounts one on its directory unless that is on
     * a tmpfs already).
     *
     * @param path absolute, without {@code =}, NUL or newline
     */
    record File(String path, String value) implements GuestSecret {
        public File {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(value, "value");
            if (!path.startsWith("/") || path.lastIndexOf('/') == 0 || path.chars().anyMatch(c -> c == '=' || c < 0x20)) {
                throw new IllegalArgumentException("secret file path is not valid: " + path);
            }
            checkValue(value, "file " + path);
        }

        @Override
        public String target() {
            return "file " + path;
        }

        @Override
        public String toString() {
            return "File[path=" + path + ", value=(hidden)]";
        }
    }

    private static void checkValue(String value, String target) {
        if (value.indexOf('\0') >= 0) throw new IllegalArgumentException("secret " + target + ": value contains a NUL");
    }
}
