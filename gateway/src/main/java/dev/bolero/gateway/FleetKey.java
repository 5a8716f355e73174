package dev.bolero.gateway;

import dev.bolero.core.ValidationException;
import java.util.regex.Pattern;

/**
 * A fleet, named within its namespace (tenant). Both names are DNS labels, since {@code <fleet>.<namespace>.<domain>}
 * is the fleet's host name.
 */
public record FleetKey(String namespace, String fleet) {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    /** @throws ValidationException when either name is not a lower-case DNS label */
    public FleetKey {
        requireLabel("namespace", namespace);
        requireLabel("fleet", fleet);
    }

    static void requireLabel(String what, String label) {
        if (label == null || !LABEL.matcher(label).matches()) {
            throw new ValidationException(what + " " + label + ": not a lower-case DNS label");
        }
    }

    @Override
    public String toString() {
        return namespace + "/" + fleet;
    }
}
