/**
 * The node agent: wires the local store, the image store, the VMM driver and the node API, and re-adopts running
 * machines at start.
 */
package dev.bolero.agent;
