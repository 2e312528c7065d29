"""Session host: owns PTYs, emulators and session lifecycle; serves the protocol."""
