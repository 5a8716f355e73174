package dev.bolero.oci;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Extended attributes as ext4 stores them: which ones a file may carry and the attribute block that holds them. The
 * rules are the kernel's, so that a layer's attributes end up as they did when layers were unpacked on a file system
 * and copied by {@code mkfs.ext4 -d}: {@code user.*} only on regular files and directories, {@code trusted.*},
 * {@code security.*} (file capabilities only if well-formed) and POSIX ACLs (converted to ext4's own encoding; not on symlinks, default ACLs only on
 * directories, a malformed one dropped as the kernel refuses it), anything else dropped.
 */
final class Ext4Xattrs {
    private static final int MAGIC = 0xEA020000;
    private static final int HEADER = 32;
    private static final int ACL_XATTR_VERSION = 2;
    private static final int ACL_EXT4_VERSION = 1;

    private Ext4Xattrs() {}

    /** An attribute as stored: the name's prefix index, the rest of the name, the value. */
    record Stored(int index, byte[] name, byte[] value) {}

    /** How ext4 stores attribute {@code name} with {@code value} on a file of {@code type}; empty if it is dropped. */
    static Optional<Stored> stored(String name, byte[] value, int type) {
        boolean regularOrDirectory = type == Ext4Writer.S_IFREG || type == Ext4Writer.S_IFDIR;
        if (name.startsWith("user.")) {
            return regularOrDirectory ? Optional.of(of(1, name, "user.", value)) : Optional.empty();
        }
        if (name.equals("system.posix_acl_access") || name.equals("system.posix_acl_default")) {
            if (type == Ext4Writer.S_IFLNK || name.endsWith("default") && type != Ext4Writer.S_IFDIR) {
                return Optional.empty();
            }
            return acl(value).map(acl -> new Stored(name.endsWith("access") ? 2 : 3, new byte[0], acl));
        }
        if (name.startsWith("trusted.")) {
            return Optional.of(of(4, name, "trusted.", value));
        }
        if (name.equals("security.capability") && !validCapability(value)) {
            return Optional.empty();
        }
        if (name.startsWith("security.")) {
            return Optional.of(of(6, name, "security.", value));
        }
        return Optional.empty();
    }

    /** The kernel's check of file capabilities: revision 2 in 20 bytes, or revision 3 in 24. */
    private static boolean validCapability(byte[] value) {
        if (value.length < 4) {
            return false;
        }
        int revision = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFF000000;
        return value.length == 20 && revision == 0x02000000 || value.length == 24 && revision == 0x03000000;
    }

    private static Stored of(int index, String name, String prefix, byte[] value) {
        return new Stored(index, name.substring(prefix.length()).getBytes(StandardCharsets.UTF_8), value);
    }

    /** A POSIX ACL in ext4's encoding (short entries for the owner, group, mask and other), if it is well-formed. */
    private static Optional<byte[]> acl(byte[] value) {
        if (value.length < 4 || (value.length - 4) % 8 != 0) {
            return Optional.empty();
        }
        ByteBuffer in = ByteBuffer.wrap(value).order(ByteOrder.LITTLE_ENDIAN);
        if (in.getInt() != ACL_XATTR_VERSION) {
            return Optional.empty();
        }
        ByteBuffer out = ByteBuffer.allocate(value.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(ACL_EXT4_VERSION);
        while (in.hasRemaining()) {
            short tag = in.getShort();
            short perm = in.getShort();
            int id = in.getInt();
            switch (tag) {
                case 0x01, 0x04, 0x10, 0x20 -> out.putShort(tag).putShort(perm);
                case 0x02, 0x08 -> out.putShort(tag).putShort(perm).putInt(id);
                default -> {
                    return Optional.empty();
                }
            }
        }
        return Optional.of(Arrays.copyOf(out.array(), out.position()));
    }

    /**
     * The attribute block of a node with attributes, entries sorted as the kernel looks them up (prefix index, name
     * length, name), with their hashes; null without attributes.
     *
     * @throws PullException if the attributes do not fit in one block
     */
    static byte[] block(Ext4Writer.Node node) throws PullException {
        List<Stored> attributes = new ArrayList<>();
        for (var xattr : node.xattrs.entrySet()) {
            stored(xattr.getKey(), xattr.getValue(), node.type()).ifPresent(attributes::add);
        }
        if (attributes.isEmpty()) {
            return null;
        }
        attributes.sort(Comparator.comparingInt(Stored::index).thenComparingInt(s -> s.name().length)
                .thenComparing(Stored::name, Arrays::compareUnsigned));
        ByteBuffer out = ByteBuffer.allocate(Ext4Writer.BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        int entries = HEADER;
        int values = Ext4Writer.BLOCK;
        int blockHash = 0;
        for (Stored attribute : attributes) {
            int entrySize = 16 + (attribute.name().length + 3) / 4 * 4;
            int valueSize = (attribute.value().length + 3) / 4 * 4;
            if (attribute.name().length > 255 || entries + entrySize + 4 > values - valueSize) {
                throw new PullException("the extended attributes of a file do not fit in one " + Ext4Writer.BLOCK + "-byte block");
            }
            values -= valueSize;
            out.put(values, attribute.value());
            int hash = hash(attribute);
            out.position(entries);
            out.put((byte) attribute.name().length).put((byte) attribute.index()).putShort((short) (attribute.value().length == 0 ? 0 : values))
                    .putInt(0).putInt(attribute.value().length).putInt(hash).put(attribute.name());
            entries += entrySize;
            blockHash = (blockHash << 16) ^ (blockHash >>> 16) ^ hash;
        }
        out.putInt(0, MAGIC).putInt(4, 1).putInt(8, 1).putInt(12, blockHash);
        return out.array();
    }

    /** The kernel's ext4_xattr_hash_entry: the name's bytes, then the value's 32-bit words. */
    private static int hash(Stored attribute) {
        int hash = 0;
        for (byte b : attribute.name()) {
            hash = (hash << 5) ^ (hash >>> 27) ^ (b & 0xff);
        }
        byte[] padded = Arrays.copyOf(attribute.value(), (attribute.value().length + 3) / 4 * 4);
        ByteBuffer words = ByteBuffer.wrap(padded).order(ByteOrder.LITTLE_ENDIAN);
        while (words.hasRemaining()) {
            hash = (hash << 16) ^ (hash >>> 16) ^ words.getInt();
        }
        return hash;
    }
}
