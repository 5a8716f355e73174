package dev.bolero.agent.machine;

import dev.bolero.core.MachineSpec;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Which template a machine may start from: a digest of what makes up its guest's memory once its workload is up, as
 * its owner configures it. That is its namespace (a template's memory is one tenant's, and its DNS search domains
 * are the namespace's), its image by digest, and the parts of its config the guest sees: {@code guest} (vCPUs, memory,
 * root file system), {@code init}, {@code env} and {@code network}. What only the node acts on is left out, so that
 * machines differing in it share a template: the machine's name and id, {@code services} (published ports),
 * {@code metadata}, {@code checks}, {@code restart}, {@code stop}, {@code auto_destroy}, {@code http_service} and
 * {@code driver}. The guest's identity (hostname, address, MAC, machine-id, entropy) is given anew to each machine
 * started from a template.
 *
 * <p>What the node supplies (kernel, initramfs, the VMM and its version, the image's root drive) is not part of the
 * key: a template records it (its snapshot's launch) and is discarded when it changed, so that a node upgrade replaces
 * templates rather than leaving unusable ones behind.
 *
 * @param value 32 lowercase hex digits (128 bits of the SHA-256), the template's directory name
 */
record TemplateKey(String value) {
    TemplateKey {
        Objects.requireNonNull(value, "value");
        if (!value.matches("[0-9a-f]{32}")) throw new IllegalArgumentException("not a template key: " + value);
    }

    /** The key of a machine of {@code namespace} running {@code config} from the image {@code imageDigest}. */
    static TemplateKey of(String namespace, MachineSpec config, String imageDigest) {
        String canonical = String.join("\n", "namespace=" + namespace, "image=" + imageDigest,
                "guest=" + config.guest(), "init=" + config.init(), "env=" + config.env(),
                "network=" + config.network());
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            return new TemplateKey(HexFormat.of().formatHex(digest, 0, 16));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return value;
    }
}
