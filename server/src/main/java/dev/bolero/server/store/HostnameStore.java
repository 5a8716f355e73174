package dev.bolero.server.store;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** Custom host names of fleets and their uploaded certificates (keys sealed, never in clear), in one {@link Tx}. */
public final class HostnameStore {
    private static final String SELECT = "SELECT hostname, namespace, fleet, cert_chain, cert_fingerprint, cert_key, "
            + "cert_version, created_at, updated_at FROM hostnames";

    private final Statements sql;

    HostnameStore(Statements sql) {
        this.sql = sql;
    }

    /**
     * One host name's row.
     *
     * @param certificate the tenant's uploaded certificate, if any
     * @param certificateVersion how many certificates were uploaded for it (0: none yet), which a sealed key is bound to
     */
    public record Row(String hostname, String namespace, String fleet, Optional<Certificate> certificate,
                      long certificateVersion, Instant createdAt, Instant updatedAt) {
        public Row {
            Objects.requireNonNull(certificate, "certificate");
        }
    }

    /**
     * An uploaded certificate as stored.
     *
     * @param chain the PEM chain, leaf first
     * @param fingerprint the leaf's {@code sha256:HEX}
     * @param sealedKey its private key, sealed with the namespace's data key
     */
    public record Certificate(String chain, String fingerprint, byte[] sealedKey) {}

    /** Claims {@code hostname} for the fleet; a name already claimed (by any namespace) is a unique violation. */
    public void insert(String hostname, String namespace, String fleet, Instant now) throws SQLException {
        sql.update("INSERT INTO hostnames (hostname, namespace, fleet, cert_version, created_at, updated_at) "
                + "VALUES (?,?,?,0,?,?)", hostname, namespace, fleet, now.toEpochMilli(), now.toEpochMilli());
    }

    /** Stores version {@code version} of the host name's uploaded certificate. */
    public void setCertificate(String hostname, Certificate certificate, long version, Instant now)
            throws SQLException {
        sql.update("UPDATE hostnames SET cert_chain = ?, cert_fingerprint = ?, cert_key = ?, cert_version = ?, "
                + "updated_at = ? WHERE hostname = ?", certificate.chain(), certificate.fingerprint(),
                Base64.getEncoder().encodeToString(certificate.sealedKey()), version, now.toEpochMilli(), hostname);
    }

    /** The host name's row, whichever namespace claimed it. */
    public Optional<Row> get(String hostname) throws SQLException {
        return sql.one(SELECT + " WHERE hostname = ?", HostnameStore::row, hostname);
    }

    /** The namespace's host names, by name. */
    public List<Row> list(String namespace) throws SQLException {
        return sql.all(SELECT + " WHERE namespace = ? ORDER BY hostname", HostnameStore::row, namespace);
    }

    /** One page of the host names of the namespace's fleet {@code fleet}, by name. */
    public List<Row> list(String namespace, String fleet, Page page) throws SQLException {
        return sql.all(SELECT + " WHERE namespace = ? AND fleet = ? AND " + Page.sql("hostname"), HostnameStore::row,
                page.args(namespace, fleet));
    }

    /** Releases a host name; whether it was claimed. */
    public boolean delete(String hostname) throws SQLException {
        return sql.update("DELETE FROM hostnames WHERE hostname = ?", hostname) > 0;
    }

    private static Row row(ResultSet rs) throws SQLException {
        String chain = rs.getString(4);
        Optional<Certificate> certificate = chain == null ? Optional.empty()
                : Optional.of(new Certificate(chain, rs.getString(5), Base64.getDecoder().decode(rs.getString(6))));
        return new Row(rs.getString(1), rs.getString(2), rs.getString(3), certificate, rs.getLong(7),
                Instant.ofEpochMilli(rs.getLong(8)), Instant.ofEpochMilli(rs.getLong(9)));
    }
}
