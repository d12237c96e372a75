"""Small reusable UI pieces: semantics-labelled buttons, chips, step cards,
the page viewer and the camera panel."""
