package dev.bolero.api.wire;

import dev.bolero.core.FieldPath;

/**
 * The body that mints a namespace token; every field may be left out (an empty body: a member token that does not
 * expire).
 *
 * @param role {@code member} (the default) or {@code admin}
 * @param expiresInS seconds until the token stops working, 60 to 31,536,000 (a year); null: never
 * @param description up to 200 characters saying what the token is for
 */
public record TokenSpec(TokenRole role, Long expiresInS, String description) {
    /** The longest lifetime a token may be given: a year. */
    public static final long MAX_EXPIRES_IN_S = 365L * 24 * 3600;

    public TokenSpec {
        if (expiresInS != null && (expiresInS < 60 || expiresInS > MAX_EXPIRES_IN_S)) {
            throw FieldPath.root().field("expires_in_s").invalid("must be 60 to " + MAX_EXPIRES_IN_S + " seconds, got "
                    + expiresInS);
        }
        if (description != null && description.length() > 200) {
            throw FieldPath.root().field("description").invalid("must be at most 200 characters, got "
                    + description.length());
        }
    }

    /** The token's role: {@link TokenRole#MEMBER} when none is given. */
    public TokenRole roleOrDefault() {
        return role == null ? TokenRole.MEMBER : role;
    }
}
