// Package profile reads a node profile: what one role's image is made of (which artifacts, which
// container images to preload, extra files and units as a Butane snippet, kernel arguments,
// partition sizes) and which output formats to build. Profiles are decoded strictly; every error
// names the field's path.
package profile
