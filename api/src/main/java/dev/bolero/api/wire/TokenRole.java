package dev.bolero.api.wire;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * What a namespace token may do in its namespace: a {@link #MEMBER} uses its objects; an {@link #ADMIN} also mints,
 * lists and revokes the namespace's tokens.
 */
public enum TokenRole {
    MEMBER, ADMIN;

    @JsonValue
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
