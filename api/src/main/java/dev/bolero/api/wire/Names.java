package dev.bolero.api.wire;

import dev.bolero.api.ApiException;

/** The one rule for names of namespaces, fleets and nodes: DNS labels. */
public final class Names {
    private Names() {}

    /**
     * Returns {@code name} when it is 1-63 lowercase letters, digits or '-', not starting or ending with '-'.
     *
     * @throws ApiException ({@code invalid_argument}) naming {@code what} otherwise
     */
    public static String check(String what, String name) {
        if (name == null || !name.matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")) {
            throw ApiException.invalid(what + " must be 1-63 lowercase letters, digits or '-', not starting or "
                    + "ending with '-', got " + (name == null ? "nothing" : "'" + name + "'"));
        }
        return name;
    }
}
