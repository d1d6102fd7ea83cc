"""The five fixture replies, with the request each answers and the answers, by hand.

``REQUEST`` is the question part of each letter, written out as the researcher would
have typed it (plain text, the letter's own numbering, its quirks kept: the stray quote
characters of 000, the "0." sub-lists of 004 that the letter calls 1a-1e and 3a-3f, the
lettered options of 001). ``EXPECTED`` maps every question key the extractor must find
to the answer a careful human reads in the letter: the answer text (compared with
whitespace collapsed) and its normalised value, or ``BLANK`` where the letter gives no
answer of its own to that question (the aligner must then leave the cell blank).
"""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "council-responses"
BLANK = None

FILES = {
    "000": "000_ce2ee234e5fe9bb0.txt",
    "001": "001_c0f5b67165051b81.txt",
    "002": "002_a2cc6b6967004a4d.txt",
    "003": "003_e13dea2362cefe15.txt",
    "004": "004_dd5eb0f84851cdc0.txt",
}

AUTHORITY = {
    "000": ("London Borough of Barnet", "foi@barnet.gov.uk"),
    "001": ("Leicester City Council", "info.requests@leicester.gov.uk"),
    "002": ("London Borough of Barnet", "foi@barnet.gov.uk"),
    "003": ("London Borough of Barnet", "foi@barnet.gov.uk"),
    "004": ("London Borough of Barnet", "foi@barnet.gov.uk"),
}

# (received by the council = the day we sent it, response date); 001 states neither.
DATES = {
    "000": ("2020-02-11", "2020-02-24"),
    "001": ("2020-02-11", "2020-02-27"),
    "002": ("2020-04-07", "2020-04-09"),
    "003": ("2020-05-15", "2020-05-18"),
    "004": ("2022-05-10", "2022-06-06"),
}

THEIR_REF = {"000": "6073489", "001": None, "002": "6234788", "003": "6299088", "004": "8268329"}


def response_text(case: str) -> str:
    return (FIXTURES / FILES[case]).read_text(encoding="utf-8")


REQUEST: dict[str, str] = {}
EXPECTED: dict[str, dict[str, tuple[str, str | None] | None]] = {}

# --------------------------------------------------------------------------- 000

REQUEST["000"] = """\
Please can you answer the following questions: if there is not time available to answer \
all of the questions, or if some are not possible to answer, please answer those you can \
in order ' beginning with those at the top of the list first.

1a. How many of your employees work with children or vulnerable people (e.g. social \
workers, or those who work in fostering, education or child and adult care)?

1b. How many of your employees who work with children or vulnerable people are 'remote \
workers' or 'flexible workers' (i.e. they perform some of their duties away from a \
fixed/office location ' for instance, performing home visits or working from home outside \
of regular office hours)?

All the below questions relate to those employees who work with children or vulnerable \
people, and are also considered 'remote workers' or 'flexible workers' as identified in \
questions a. and b. above

1c. Do you provide these employees with any of the below devices so that they can perform \
their jobs outside of the office (indicate all that are applicable)?

* Basic mobile phone
* Smartphone
* Tablet
* Laptop computer
* Desktop computer

1d. Are they able to perform the following tasks on these council-provided devices?

* Access centrally stored information on the individuals they are dealing with
* Save information on their cases or specific individuals to the device
* Save information on their cases or specific individuals to central storage that isn't \
on the council-provided device (e.g. through a VPN connection)
* Communicate with colleagues over email
* Use collaboration tools (e.g. Microsoft Teams, Slack, WhatsApp)
* Communicate with the specific children or vulnerable people they are working with \
(e.g. over email or instant messaging)
* Communicate with people who work outside the organisation (e.g. contractors or other \
public services)
* Personal tasks ' e.g. visiting non-work-related websites or accessing personal email \
accounts

1e. How many of these employees have complained to the organisation that they could not \
perform work they need to on their council-provided device (e.g. because of issues with \
the device, difficulty accessing information, or a lack of training) in the past 12 months?

1f. Do you prevent these employees from using their own personal devices for work-related \
tasks due to concerns over data privacy?

* Yes, we prevent all tasks
* Yes, we prevent some tasks
* No, but they have to take specific actions ' e.g. installing security on their device, \
using specific vetted applications
* No
* Don't know

1g. Are you aware of any of these employees sharing their personal mobile phone number for \
work purposes when instructed not to? If possible, how many have done so?
"""

EXPECTED["000"] = {
    "1a": (
        "Total = 591, 373 are in Family Services and 218 are in Adults and Health",
        "591",
    ),
    "1b": (
        "All above have the option to work remotely or as part of their role will work away "
        "from the office.",
        None,
    ),
    "1c": ("Yes, staff have access to all options above.", "Yes"),
    "1d": ("Yes to all the above", "Yes"),
    "1e": ("Data is not logged, information not held.", "not held"),
    "1f": (
        "Yes, we prevent some tasks – the council has in place policies for all staff "
        "surrounding the use of personal equipment.",
        "Yes, we prevent some tasks",
    ),
    "1g": ("There has been no incidents recorded in relation to this.", None),
}

# --------------------------------------------------------------------------- 001
# Leicester's letter restates the same request with its own lettering: a-g, and the
# options of c, d and f as lettered sub-lists (which the extractor keys c1.., d1.., f1..).

REQUEST["001"] = """\
a. How many of your employees work with children or vulnerable people (e.g. social \
workers, or those who work in fostering, education or child and adult care)?

b. How many of your employees who work with children or vulnerable people are ‘remote \
workers’ or ‘flexible workers’ (i.e. they perform some of their duties away from a \
fixed/office location – for instance, performing home visits or working from home \
outside of regular office hours)?

All the below questions relate to those employees who work with children or vulnerable \
people, and are also considered ‘remote workers’ or ‘flexible workers’ as identified in \
questions a. and b. above

c. Do you provide these employees with any of the below devices so that they can perform \
their jobs outside of the office (indicate all that are applicable)?
a. Basic mobile phone
b. Smartphone
c. Tablet
d. Laptop computer
e. Desktop computer

d. Are they able to perform the following tasks on these council-provided devices?
a. Access centrally stored information on the individuals they are dealing with
b. Save information on their cases or specific individuals to the device
c. Save information on their cases or specific individuals to central storage that isn’t \
on the council-provided device (e.g. through a VPN connection)
d. Communicate with colleagues over email
e. Use collaboration tools (e.g. Microsoft Teams, Slack, WhatsApp)
f. Communicate with the specific children or vulnerable people they are working with \
(e.g. over email or instant messaging)
g. Communicate with people who work outside the organisation (e.g. contractors or other \
public services)
h. Personal tasks – e.g. visiting non-work-related websites or accessing personal email \
accounts

e. How many of these employees have complained to the organisation that they could not \
perform work they need to on their council-provided device (e.g. because of issues with \
the device, difficulty accessing information, or a lack of training) in the past 12 months?

f. Do you prevent these employees from using their own personal devices for work-related \
tasks due to concerns over data privacy?
a. Yes, we prevent all tasks
b. Yes, we prevent some tasks
c. No, but they have to take specific actions – e.g. installing security on their device, \
using specific vetted applications
d. No
e. Don’t know

g. Are you aware of any of these employees sharing their personal mobile phone number for \
work purposes when instructed not to? If possible, how many have done so?
"""

_YES = ("Yes", "Yes")
EXPECTED["001"] = {
    # a is answered together with b, under b: a's own cell stays blank
    "a": BLANK,
    "b": (
        "The majority of staff have encrypted laptops and are able to work remotely from any "
        "location at any time, therefore, an exact figure is not held. This letter acts as a "
        "refusal notice under section 17.1 of the Freedom of Information Act 2000 because, in "
        "accordance with section 1.1 of the Act, this information is not held by Leicester "
        "City Council. However, we are able to confirm the following figures regarding "
        "Children and Adult Social Care staff, the social workers would all work remotely. "
        "Children’s Social Care & Early Help – 644 employees (142 social workers) "
        "Adult Social Care (Commissioning & Safeguarding) – 733 employees (114 social workers)",
        None,
    ),
    "c": BLANK,  # answered in its parts
    "c1": _YES,
    "c2": _YES,
    "c3": _YES,
    "c4": _YES,
    "c5": _YES,
    "d": BLANK,
    "d1": _YES,
    "d2": _YES,
    "d3": _YES,
    "d4": _YES,
    "d5": _YES,  # on the question's own line: "... WhatsApp) Yes"
    "d6": _YES,
    "d7": _YES,
    "d8": ("Some websites yes, however, not personal email", None),
    "e": (
        "We are not aware of anyone complaining to Leicester City Council that they cannot do "
        "the work they need to do on their work provided device.",
        None,
    ),
    # f's options are repeated but none is chosen: no answer at all
    "f": BLANK,
    "f1": BLANK,
    "f2": BLANK,
    "f3": BLANK,
    "f4": BLANK,
    "f5": BLANK,
    "g": (
        "We are not aware of any staff utilising personal phones when advised not to. Staff "
        "are entitled to utilise their own devices for mobile working where set up to do so.",
        None,
    ),
}

# --------------------------------------------------------------------------- 002

REQUEST["002"] = """\
I would like to know what policies are in place within your organisation to enable remote \
working during the Covid-19 lockdown since the start of the calendar year please.

1. Breakdown of the number of new devices purchased by your organisation:
- o Laptops
- o Tablet computers
- o Mobile Phones

2. Detail on remote working software/licences purchased
- o Number of Zoom accounts created
- o Number of new office 365 account purchased
"""

EXPECTED["002"] = {
    "1": (
        "The Authority has a policy to replace 20% of devices per annum (roughly just over "
        "500), in addition an devices out of warranty are replaced if they fail (around 100). "
        "No tablets as we use 2in1 devices for this purpose. The CSG Capita contract is "
        "between the council and Capita to deliver IT functions and services and can be found "
        "here <https://open.barnet.gov.uk/dataset/23d3v/customer-and-support-group-csg-contract>",
        None,
    ),
    "2": (
        "Zoom is not supported in the Authority - We use Skype for Business "
        "All users of the corporate systems have an Office 365 account.",
        None,
    ),
}

# --------------------------------------------------------------------------- 003

_STAGES = """\
- * Yes, we have done this since 2019 or earlier
- * Yes, we have started doing so in the last four months (since January 2020)
- * No, but we are planning to do so in next 3-6 months
- * No, but we are planning to do so in the next 9-12 months
- * No, we do not plan to do this
"""

REQUEST["003"] = f"""\
1. How much of the information you store and manage for local citizens (for example, \
council tax records, social care records, planning applications, parking permits and \
supporting documents, spreadsheets and scanned images) is digitalised?

- * 0%
- * 1-25%
- * 26-50%
- * 51-75%
- * 76-99%
- * 100%

2. Does your local authority use a content services (document management) solution to \
store and manage this information?

{_STAGES}
3. Does your local authority use a content services (document management) solution to \
share this information with external third parties, including other government agencies \
and trusted partners (for example, private healthcare or social care providers)?

{_STAGES}
4. Does your local authority use a content services (document management) solution to \
enable staff to access this information when working remotely?

{_STAGES}
5. Does your local authority currently offer your local citizens online access to their \
own records?

- * Yes, they can access all of their own digital records online
- * Yes, they can access at least some of their own digital records online
- * No, they cannot access their own digital records online
"""

EXPECTED["003"] = {
    "1": (
        "* 51-75% (information not held, but best estimate is 300,000 paper records by "
        "contractor, the rest is held electronically)",
        "51-75%",
    ),
    "2": (
        "* Yes, we have done this since 2019 or earlier",
        "Yes, we have done this since 2019 or earlier",
    ),
    "3": (
        "* No, but we are planning to do so in next 3-6 months",
        "No, but we are planning to do so in next 3-6 months",
    ),
    "4": (
        "* Yes, we have done this since 2019 or earlier",
        "Yes, we have done this since 2019 or earlier",
    ),
    "5": (
        "* Yes, they can access at least some of their own digital records online",
        "Yes, they can access at least some of their own digital records online",
    ),
}

# --------------------------------------------------------------------------- 004

REQUEST["004"] = """\
1. Please could you confirm whether your local authority has formal policies and/or formal \
guidance in place to support digital or online contact arrangements specifically? (Y/N). \
If yes, please could you answer the following questions.

0. Do you have formal policies and or guidance do you have in place to guide practitioners \
and professionals regarding digital contact? Yes/No

1. Do you have formal policies/guidance supporting kinship carers, foster carers, special \
guardians, or other carers regarding digital contact? Yes/No

2. Do you have formal policies/guidance supporting birth parents of children who are being \
cared for or have been adopted regarding digital contact?

Yes/No

3. Do you have formal policies/guidance supporting children and young people who are being \
cared for or have been adopted regarding digital contact?

Yes/No

4. Other Yes/No Please specify

2. If your LA answered YES to any of the above (1a-1e), please may I have a copy(ies) and if \
they are now included in your publication scheme or otherwise publicly available please \
could you direct me to relevant links with titles of documents.

3. Do you provide any training or training course(s) to equip the digital \
literacy/competence in support of online/digital contact arrangements for any of the \
following groups:

0. children and young people in care? Yes/No

1. birth parents of children and young people in care? Yes/No

2. carers including kinship, foster, special guardians, and other carers?
Yes/No
3. practitioners and professionals involved with digital contact arrangements.
Yes/No
4. siblings, grand parents or other family members involved with digital contact \
arrangements? Yes/No
5. other Yes/No (please specify)

4. If your LA provides training programmes for any of the above groups in support of \
digital/online contact arrangements, please can you provide any information and signpost \
me to any links or online advertising, or supply any other leaflets, or course content \
relating to questions (3a-3f).
"""

_NA = ("Not Applicable", "N/A")
_NO = ("No", "No")
EXPECTED["004"] = {
    "1": (
        "No, LBB does not have any formal policies or guidance relating to this. Supervised "
        "contact which is held over video messaging is subject to the same Contact Agreement "
        "that parents adhere to for all contact. Contact Centre staff have access to guidance "
        "published by the National Association of Child Contact Centres.",
        "No",
    ),
    # 1a-1e are repeated together with one "Not Applicable" under the last
    "1a": _NA,
    "1b": _NA,
    "1c": _NA,
    "1d": _NA,
    "1e": _NA,
    "2": _NA,
    "3": BLANK,  # answered in its parts
    "3a": _NO,
    "3b": _NO,
    "3c": _NO,
    "3d": (
        "LBB staff have access to general training and guidance on using digital platforms "
        "which is provided by the IT department.",
        None,
    ),
    "3e": _NO,
    "3f": (
        "Support around accessing virtual contacts is provided on a case by case basis as and "
        "when the need arises either by the contact centre or allocated social worker for the "
        "child.",
        None,
    ),
    "4": _NA,
}
