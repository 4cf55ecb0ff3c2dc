"""What the tests share: emulators and the gateways in front of them, fault injection, ground truths, and builders."""
