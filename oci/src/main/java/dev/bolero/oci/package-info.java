/**
 * Container images for Bolero: references, the OCI distribution protocol, a verified blob store, safe layer
 * unpacking and ext4 root drives.
 *
 * <p>The entry point is {@link dev.bolero.oci.ImageStore#prepare(String)}, which turns a reference such as
 * {@code 127.0.0.1:5000/app:1} or {@code busybox} into a {@link dev.bolero.oci.PreparedImage}: the image's
 * configuration and the path of an ext4 drive holding its root file system. Every failure is an
 * {@link dev.bolero.oci.OciException} whose message names the image and what failed. Everything else in this package
 * is an implementation detail.
 */
package dev.bolero.oci;
