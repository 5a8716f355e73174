package dev.bolero.api.wire;

import dev.bolero.core.FieldPath;

/**
 * The body that sets a secret: its name (when creating) and its value. Write-only: no answer repeats the value.
 *
 * @param name 1 to 128 of {@code A-Z a-z 0-9 _ . -}, starting with a letter or {@code _}; null on an update (the path
 *     names it)
 * @param value the value, UTF-8 text of 1 to {@link #MAX_VALUE_BYTES} bytes
 */
public record SecretValue(String name, String value) {
    /** The largest value: 64 KiB. */
    public static final int MAX_VALUE_BYTES = 64 * 1024;

    public SecretValue {
        if (name != null) checkName(FieldPath.root().field("name"), name);
        int bytes = FieldPath.root().field("value").required(value).getBytes(java.nio.charset.StandardCharsets.UTF_8)
                .length;
        if (bytes == 0 || bytes > MAX_VALUE_BYTES) {
            throw FieldPath.root().field("value").invalid("must be 1 to " + MAX_VALUE_BYTES + " bytes, got " + bytes);
        }
    }

    /** Checks a secret's name at {@code at}. */
    public static String checkName(FieldPath at, String name) {
        if (name == null || !name.matches("[A-Za-z_][A-Za-z0-9_.-]{0,127}")) {
            throw at.invalid("must be 1-128 of A-Z a-z 0-9 _ . - starting with a letter or _, got '" + name + "'");
        }
        return name;
    }

    @Override
    public String toString() {
        return "SecretValue[name=" + name + ", value=(hidden)]";
    }
}
