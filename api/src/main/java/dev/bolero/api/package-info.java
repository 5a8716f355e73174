/**
 * Wire records of Bolero's REST APIs. JSON names are snake_case; unknown fields are rejected ({@link ApiJson}).
 * Nothing here knows about storage or drivers.
 */
package dev.bolero.api;
