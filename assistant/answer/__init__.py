"""Answer backends behind one interface, and the answer object they all produce."""
