"""Seed questions worded unlike the text, each with the line the answer is on."""

PARAPHRASES = [
    ("Which Russian minister went to Pyongyang, the first such trip since the USSR collapsed?", 3),
    ("Why does the foreign delegations' trip matter for North Korea after COVID?", 4),
    ("What did exhibiting forbidden missiles suggest about Moscow's view of Pyongyang's nukes?", 5),
    ("What kind of plants did Kim inspect, and what do they make?", 8),
    ("How do analysts read Kim's inspection of arms plants, given the allied exercises?", 9),
    ("Could the factory visit be linked to selling arms abroad?", 10),
    ("What does Moscow want to purchase from Pyongyang, and what would it offer?", 11),
    ("What did Brussels say about the votes in occupied Ukrainian regions?", 12),
    ("Which city was the North Korean leader's bulletproof train heading to?", 13),
    ("Why is the West worried about Kim's trip to Russia?", 14),
    ("Where can you see the rail cars used by Kim's father and grandfather?", 15),
    ("What presents did the two leaders hand each other?", 16),
    ("How are the leader's armoured cars put on the train?", 17),
    ("How did Kim thank his host, and why does that alarm Western capitals?", 18),
    ("What speculation followed Kim's return from Russia?", 19),
    ("What did Lula say about detaining the Russian president in Brazil?", 12),
    ("Did Putin get anything from space as a present for Kim?", 16),
    ("What is the UN rights chief's view of Moscow quitting the grain agreement?", 12),
]

PARAPHRASES += [
    ("What did Ukraine's army take back near Crimea?", 12),
    ("How long was Kim expected to stay in the Russian Far East?", 16),
]
