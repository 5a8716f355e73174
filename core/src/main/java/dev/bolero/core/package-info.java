/**
 * The domain values every part of Bolero shares: {@link dev.bolero.core.MachineSpec} (a machine's desired
 * configuration, with its {@link dev.bolero.core.MachineSpec.Overlay overlay} rule and builder), machine and node
 * states, drivers, image references and digests. No HTTP, SQL or driver code; rules fail with
 * {@link dev.bolero.core.ValidationException} naming the field's path.
 */
package dev.bolero.core;
