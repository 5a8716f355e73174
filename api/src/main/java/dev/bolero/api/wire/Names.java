package dev.bolero.api.wire;

import dev.bolero.api.ApiException;
import java.util.regex.Pattern;

/** The one rule for names of namespaces, fleets and nodes: DNS labels. */
public final class Names {
    /** A DNS label; compiled once, as names are checked on every create and every read of a fleet. */
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private Names() {}

    /**
     * Returns {@code name} when it is 1-63 lowercase letters, digits or '-', not starting or ending with '-'.
     *
     * @throws ApiException ({@code invalid_argument}) naming {@code what} otherwise
     */
    public static String check(String what, String name) {
        if (name == null || !LABEL.matcher(name).matches()) {
            throw ApiException.invalid(what + " must be 1-63 lowercase letters, digits or '-', not starting or "
                    + "ending with '-', got " + (name == null ? "nothing" : "'" + name + "'"));
        }
        return name;
    }
}
