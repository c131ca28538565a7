"""Feature sets: named, versioned column selections and transforms over loaded samples."""
