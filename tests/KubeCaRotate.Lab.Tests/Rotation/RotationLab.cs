namespace KubeCaRotate.Lab.Tests.Rotation;

/// <summary>One 3 + 2 lab for the full-rotation tests; the tool's waits keep their defaults.</summary>
public sealed class RotationLab() : RotationLabFixture("kcr-rot-", controlPlanes: 3, workers: 2);
