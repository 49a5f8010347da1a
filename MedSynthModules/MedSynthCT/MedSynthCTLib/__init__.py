"""Qt-free logic of the MedSynthCT module (synthetic CT from MRI, DICOM export)."""
