namespace KubeCaRotate.Pki; internal static class Placeholder {}
