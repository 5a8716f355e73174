package dev.bolero.api.wire;

import dev.bolero.core.FieldPath;

/**
 * The body that sets a secret: its name (when creating) and its value. Write-only: no answer repeats the value.
 *
 * @param name 1 to 128 of {@code A-Z a-z 0-9 _ . -}, starting with a letter or {@code _}; null on an update (the path
 *     names it)
 * @param value the value, UTF-8 text of 1 to {@link #MAX_VALUE_BYTES} bytes without NUL (it reaches guests as a
 *     variable or a file)
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
        if (value.indexOf('\0') >= 0) throw FieldPath.root().field("value").invalid("must not contain NUL characters");
    }

    /** Checks a secret's name at {@code at}. */
    public static String checkName(FieldPath at, String name) {
        return dev.bolero.core.MachineSpec.Secret.checkName(at, name);
    }

    @Override
    public String toString() {
        return "SecretValue[name=" + name + ", value=(hidden)]";
    }
}
