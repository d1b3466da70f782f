"""Made-up names and words for the demo's year of activity: short fixed lists, nobody real."""

from initiatives.models import Initiative
from neighbourhoods.models import Post

FIRST_NAMES = (
    "Aled", "Alys", "Amara", "Anwen", "Arjun", "Bethan", "Bronwen", "Caio", "Carys", "Cerys", "Chen", "Dafydd",
    "Delyth", "Dewi", "Efa", "Elin", "Emrys", "Ffion", "Gethin", "Gwen", "Hamza", "Hana", "Huw", "Idris", "Ifan",
    "Iolo", "Jac", "Kemi", "Lleucu", "Lowri", "Mabli", "Macsen", "Mali", "Meera", "Megan", "Nia", "Nico", "Osian",
    "Priya", "Rhodri", "Rhys", "Rosa", "Sami", "Seren", "Siôn", "Tegan", "Tomos", "Wil", "Yusuf", "Zara",
)  # fmt: skip
INITIALS = "ABCDEFGHJKLMNOPRSTW"
GROUP_NAMES = ("Neighbours", "Park Friends", "Green Streets", "Terraces", "Allotment Neighbours", "Lanes", "Corner")
POSTS = {
    Post.Kind.HELLO: ("Hello from a new neighbour", "Just moved in with two cats. Say hello if you see me about!"),
    Post.Kind.OFFER: ("Ladder to lend", "A long ladder in the shed, free to borrow. Reply here and I'll drop it off."),
    Post.Kind.REQUEST: ("Anyone with a drill?", "Two shelves to put up. **Could I borrow a drill** at the weekend?"),
    Post.Kind.NOTICE: ("Bins go out on Friday", "Bank holiday next week, so the bins go out a day late."),
    Post.Kind.QUESTION: ("Good plumber?", "Our boiler is making a strange noise. Any recommendations?"),
    Post.Kind.RECOMMENDATION: ("Great bakery", "The new bakery by the park does brilliant Welsh cakes."),
    Post.Kind.LOST_FOUND: ("Found: a set of keys", "Blue keyring found by the post box. I've kept them safe."),
}  # fmt: skip
COMMENTS = (
    "Welcome! Lovely to have you here.", "Happy to help, I'll message you.", "Thanks, that's really kind.",
    "Count me in.", "We had the same problem last winter.", "Great idea!", "See you there.", "Diolch!",
)  # fmt: skip
EVENTS = (
    ("Litter pick", "Gloves and bags provided. Tea afterwards."), ("Coffee morning", "Meet the neighbours."),
    ("Street picnic", "Bring a dish to share."), ("Plant swap", "Bring cuttings, take cuttings."),
    ("Quiz night", "Teams of four, small prizes."), ("Bulb planting", "Daffodils along the verges."),
    ("Repair café", "Bring something broken."), ("Games afternoon", "Board games for all ages."),
)  # fmt: skip
PLACES = ("The community hall", "By the park gates", "The church hall", "The green")
INITIATIVES = (
    ("community fridge", Initiative.Category.FOOD, "Share food that would otherwise go to waste."),
    ("corner planters", Initiative.Category.GREEN_SPACES, "Planters and benches where the street meets the park."),
    ("summer street party", Initiative.Category.ARTS, "Close the road, bring a dish, meet the neighbours."),
    ("homework club", Initiative.Category.YOUNG_PEOPLE, "A quiet place for homework, with volunteers to help."),
    ("safer crossing", Initiative.Category.STREETS, "A safer way across the main road to the school."),
    ("tool library", Initiative.Category.MUTUAL_AID, "Share ladders, drills and trimmers instead of buying."),
    ("tea and chat", Initiative.Category.OLDER_NEIGHBOURS, "A weekly cuppa for older neighbours and anyone else."),
    ("wildflower verges", Initiative.Category.GREEN_SPACES, "Let the verges grow wild for bees and butterflies."),
    ("warm space", Initiative.Category.OLDER_NEIGHBOURS, "Somewhere warm to spend winter afternoons."),
    ("underpass mural", Initiative.Category.ARTS, "Local artists and children paint the underpass."),
)
VOLUNTEER_ROLES = (("Helpers on the day", 10), ("Set-up crew", 4))
# The steps an initiative took to reach its status now, and how many days each step took.
PATHS: dict[str, tuple[tuple[str, int, int], ...]] = {
    "idea": (),
    "planning": (("planning", 7, 30),),
    "active": (("planning", 10, 30), ("active", 20, 45)),
    "completed": (("planning", 10, 25), ("active", 15, 35), ("completed", 40, 90)),
    "paused": (("planning", 10, 30), ("paused", 20, 60)),
    "archived": (("archived", 20, 80),),
}
